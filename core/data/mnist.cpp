// Loading MNIST from a directory of IDX files and gathering batches of it into tensors.
#include "core/data/mnist.hpp"

#include <atomic>
#include <cstdlib>

#include "core/check.hpp"

namespace ringtrain::data {

namespace {

constexpr int kClassCount = 10;
std::atomic<std::uint64_t> next_dataset_id{1};
constexpr const char* kHowToGetMnist =
    "run scripts/fetch-mnist.sh [DIR] to download MNIST, or pass --data DIR";

// NAME if present, else NAME.gz; an error naming both when neither is.
std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name) {
  std::error_code error;
  const std::filesystem::path raw = dir / name;
  const std::filesystem::path compressed = dir / (name + ".gz");
  if (std::filesystem::exists(raw, error)) return raw;
  if (std::filesystem::exists(compressed, error)) return compressed;
  RT_FAIL("MNIST file '" << raw.string() << "' (or '" << compressed.string()
                         << "') not found: " << kHowToGetMnist);
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

std::string to_string(Split split) {
  return split == Split::train ? "train" : "test";
}

std::string mnist_images_file(Split split) {
  return split == Split::train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
}

std::string mnist_labels_file(Split split) {
  return split == Split::train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";
}

Dataset::Dataset(IdxImages images, IdxLabels labels)
    : images_(std::move(images)), labels_(std::move(labels)), id_(next_dataset_id++) {
  RT_CHECK(images_.pixels.size() == static_cast<std::size_t>(images_.count * images_.rows * images_.cols),
           "dataset holds " << images_.pixels.size() << " pixel bytes for " << images_.count << " images of "
                            << images_.rows << "x" << images_.cols);
  RT_CHECK(static_cast<std::int64_t>(labels_.labels.size()) == images_.count,
           "dataset has " << images_.count << " images but " << labels_.labels.size() << " labels");
  for (std::size_t index = 0; index < labels_.labels.size(); ++index) {
    RT_CHECK(labels_.labels[index] < kClassCount, "dataset label "
                                                      << index << " is " << int{labels_.labels[index]}
                                                      << ", expected a digit 0.." << kClassCount - 1);
  }
}

std::span<const std::uint8_t> Dataset::image_pixels(std::int64_t index) const {
  RT_CHECK(index >= 0 && index < count(), "sample index " << index << " outside the dataset of " << count());
  const auto image_bytes = static_cast<std::size_t>(images_.rows * images_.cols);
  return std::span<const std::uint8_t>(images_.pixels)
      .subspan(static_cast<std::size_t>(index) * image_bytes, image_bytes);
}

std::uint8_t Dataset::label(std::int64_t index) const {
  RT_CHECK(index >= 0 && index < count(), "sample index " << index << " outside the dataset of " << count());
  return labels_.labels[static_cast<std::size_t>(index)];
}

void Dataset::gather_batch(std::span<const std::int64_t> indices, Tensor& images, Tensor& labels) const {
  const auto batch = static_cast<std::int64_t>(indices.size());
  float* image_out = ensure_tensor(images, sample_shape().with_batch(batch), Device::cpu).data<float>();
  std::int32_t* label_out = ensure_tensor(labels, {batch}, Device::cpu, DType::i32).data<std::int32_t>();
  const std::int64_t image_bytes = images_.rows * images_.cols;
  for (std::int64_t row = 0; row < batch; ++row) {
    const std::int64_t index = indices[static_cast<std::size_t>(row)];
    const std::span<const std::uint8_t> pixels = image_pixels(index);
    float* destination = image_out + row * image_bytes;
    for (std::int64_t pixel = 0; pixel < image_bytes; ++pixel) {
      destination[pixel] = static_cast<float>(pixels[static_cast<std::size_t>(pixel)]) / 256.0f;
    }
    label_out[row] = labels_.labels[static_cast<std::size_t>(index)];
  }
}

Dataset load_mnist(const std::filesystem::path& dir, Split split) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    const std::string from_environment = dir == env_or_empty("RINGTRAIN_DATA") ? " (RINGTRAIN_DATA)" : "";
    RT_CHECK(!std::filesystem::exists(dir, error),
             "MNIST directory '" << dir.string() << "'" << from_environment
                                 << " is a file: give the directory "
                                 << "that holds the IDX files, such as '"
                                 << (dir.has_parent_path() ? dir.parent_path().string() : ".") << "'");
    RT_FAIL(
        "MNIST directory '" << dir.string() << "'" << from_environment
                            << " does not exist: " << kHowToGetMnist
                            << (from_environment.empty() ? "" : ", or set RINGTRAIN_DATA to the directory"));
  }
  const std::filesystem::path images_path = find_idx_file(dir, mnist_images_file(split));
  const std::filesystem::path labels_path = find_idx_file(dir, mnist_labels_file(split));
  IdxImages images = read_idx_images(images_path);
  IdxLabels labels = read_idx_labels(labels_path);
  RT_CHECK(static_cast<std::int64_t>(labels.labels.size()) == images.count,
           "MNIST " << to_string(split) << " files disagree: '" << images_path.string() << "' holds "
                    << images.count << " images but '" << labels_path.string() << "' holds "
                    << labels.labels.size() << " labels; download both again (scripts/fetch-mnist.sh)");
  for (std::size_t index = 0; index < labels.labels.size(); ++index) {
    RT_CHECK(labels.labels[index] < kClassCount,
             "MNIST label file '" << labels_path.string() << "' has label " << int{labels.labels[index]}
                                  << " at index " << index << ", expected a digit 0.." << kClassCount - 1
                                  << "; the file is corrupt, download it again (scripts/fetch-mnist.sh)");
  }
  return Dataset(std::move(images), std::move(labels));
}

std::filesystem::path default_mnist_dir() {
  if (const std::string data = env_or_empty("RINGTRAIN_DATA"); !data.empty()) return data;
  if (const std::string cache = env_or_empty("XDG_CACHE_HOME"); !cache.empty()) {
    return std::filesystem::path(cache) / "ringtrain" / "mnist";
  }
  const std::string home = env_or_empty("HOME");
  RT_CHECK(!home.empty(),
           "cannot find the MNIST directory: neither RINGTRAIN_DATA, XDG_CACHE_HOME nor HOME is "
           "set; set RINGTRAIN_DATA=DIR or pass --data DIR");
  return std::filesystem::path(home) / ".cache" / "ringtrain" / "mnist";
}

}  // namespace ringtrain::data
