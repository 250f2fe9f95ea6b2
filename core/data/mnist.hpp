// The MNIST dataset in memory (uint8 images and labels), loading it from a directory, and gathering batches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/data/idx.hpp"
#include "core/tensor.hpp"

namespace ringtrain::data {

enum class Split { train, test };
std::string to_string(Split split);

// Images and labels held as bytes, as in the files; converted to tensors one batch at a time.
class Dataset {
 public:
  // Checks that counts agree and that every label is a digit 0..9.
  Dataset(IdxImages images, IdxLabels labels);

  std::int64_t count() const { return images_.count; }
  // Different for every dataset this process made (copies share it): tells whether a GPU copy is current.
  std::uint64_t id() const { return id_; }
  std::int64_t rows() const { return images_.rows; }
  std::int64_t cols() const { return images_.cols; }
  // One sample as the model sees it: (rows, cols, 1), NHWC.
  Shape sample_shape() const { return Shape{images_.rows, images_.cols, 1}; }
  std::span<const std::uint8_t> image_pixels(std::int64_t index) const;
  std::uint8_t label(std::int64_t index) const;
  const std::vector<std::uint8_t>& labels() const { return labels_.labels; }

  // Fills images (float32 [B, rows, cols, 1], pixel / 256 in [0, 1)) and labels (int32 [B]) for the samples
  // `indices`, B = indices.size(), in CPU tensors kept as ensure_tensor keeps them (in place where they
  // have room).
  void gather_batch(std::span<const std::int64_t> indices, Tensor& images, Tensor& labels) const;

 private:
  IdxImages images_;
  IdxLabels labels_;
  std::uint64_t id_;
};

// The four file names, without ".gz".
std::string mnist_images_file(Split split);  // train-images-idx3-ubyte, t10k-images-idx3-ubyte
std::string mnist_labels_file(Split split);  // train-labels-idx1-ubyte, t10k-labels-idx1-ubyte

// Loads one split from `dir`, reading NAME or else NAME.gz for each file. A missing directory or file is an
// error that says to run scripts/fetch-mnist.sh or pass --data DIR; mismatched counts and labels outside 0..9
// are errors naming the file.
Dataset load_mnist(const std::filesystem::path& dir, Split split);

// $RINGTRAIN_DATA if set, else $XDG_CACHE_HOME/ringtrain/mnist, else ~/.cache/ringtrain/mnist
// (where scripts/fetch-mnist.sh puts the files by default).
std::filesystem::path default_mnist_dir();

}  // namespace ringtrain::data
