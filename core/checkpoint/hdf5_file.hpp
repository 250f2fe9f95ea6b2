// Hdf5File: the part of HDF5's C API ringtrain uses, with owned handles and errors that name the file and the
// dataset. Datasets are chunked and carry HDF5's fletcher32 checksum, which every read verifies after
// checking that every chunk is stored whole; groups on a dataset's path are created as needed. Attributes
// hold small metadata (text and integers) on the root group.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ringtrain {

// An HDF5 identifier closed by `close` when the owner goes.
class Hdf5Handle {
 public:
  Hdf5Handle() = default;
  Hdf5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hdf5Handle() { reset(); }
  Hdf5Handle(Hdf5Handle&& other) noexcept : id_(other.id_), close_(other.close_) {
    other.id_ = H5I_INVALID_HID;
  }
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept;
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;

  hid_t get() const { return id_; }
  void reset();
  // Gives up ownership without closing; returns the identifier.
  hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

template <typename T>
struct Hdf5Array {
  std::vector<std::int64_t> shape;
  std::vector<T> values;
};

class Hdf5File {
 public:
  // A new file (an existing one is replaced); its first `user_block_bytes` (0, or a power of 2 from 512) are
  // left to the caller, HDF5 starting after them.
  static Hdf5File create(const std::filesystem::path& path, hsize_t user_block_bytes = 0);
  static Hdf5File open_for_reading(const std::filesystem::path& path);
  // An existing file, to append to.
  static Hdf5File open_for_writing(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }

  // Datasets at `name` ("parameters/conv2d/kernel"), chunked, fletcher32-checksummed.
  void write(const std::string& name, const std::vector<std::int64_t>& shape, const float* values);
  void write(const std::string& name, const std::vector<std::int64_t>& shape, const std::int64_t* values);
  void write(const std::string& name, const std::vector<std::int64_t>& shape, const double* values);
  bool exists(const std::string& name) const;
  // Reads and checksum-verifies a dataset; a missing dataset or a checksum failure is an error naming both.
  Hdf5Array<float> read_floats(const std::string& name) const;
  Hdf5Array<std::int64_t> read_int64s(const std::string& name) const;
  Hdf5Array<double> read_doubles(const std::string& name) const;
  // The names of the datasets under `group`, in the file's order, with their paths ("group/...").
  std::vector<std::string> datasets_under(const std::string& group) const;

  // Extendable 1-D datasets (appended to as training goes): created on first append.
  void append(const std::string& name, const std::vector<double>& values);
  std::int64_t length(const std::string& name) const;
  // Shortens an extendable series to its first `length` values.
  void truncate(const std::string& name, std::int64_t length);

  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, std::int64_t value);
  std::optional<std::string> text_attribute(const std::string& name) const;
  std::optional<std::int64_t> integer_attribute(const std::string& name) const;

  // Writes HDF5's buffers to the operating system.
  void flush();
  // Closes the file (also done by the destructor); errors surface here.
  void close();

 private:
  Hdf5File(std::filesystem::path path, Hdf5Handle file) : path_(std::move(path)), file_(std::move(file)) {}
  void write_dataset(const std::string& name, const std::vector<std::int64_t>& shape, hid_t type,
                     const void* values);
  template <typename T>
  Hdf5Array<T> read_dataset(const std::string& name, hid_t type) const;
  Hdf5Handle open_dataset(const std::string& name) const;

  std::filesystem::path path_;
  Hdf5Handle file_;
};

}  // namespace ringtrain
