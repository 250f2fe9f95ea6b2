// Hdf5File: handles, datasets with checksums, extendable series, attributes, and HDF5's error stack turned
// into messages.
#include "core/checkpoint/hdf5_file.hpp"

#include <algorithm>

#include "core/check.hpp"

namespace ringtrain {

namespace {

// At exit HDF5 closes every file still open. A file whose close failed (its last writes refused: a full disk)
// stays in HDF5's tables half closed, and closing it again there crashes; every Hdf5File is closed by its
// owner, so HDF5's exit handler is not installed (this must come before HDF5 is first used).
[[maybe_unused]] const bool hdf5_exit_handler_off = [] {
  H5dont_atexit();
  return true;
}();

// HDF5 prints its error stack to stderr by default; ringtrain reports errors itself.
void silence_hdf5() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

// The innermost messages of HDF5's current error stack, e.g. "Fletcher32 checksum failure"
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        auto& text = *static_cast<std::string*>(data);
        if (error->desc != nullptr && *error->desc != '\0')
          text += (text.empty() ? "" : "; ") + std::string(error->desc);
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  // A failed system call ends the stack with its time, file, descriptor and sizes; its error message (e.g.
  // "No space left on device") is what a user acts on.
  const std::string os_error = "error message = '";
  const auto start = reason.find(os_error);
  if (start != std::string::npos) {
    const auto end = reason.find('\'', start + os_error.size());
    if (end != std::string::npos)
      return reason.substr(start + os_error.size(), end - start - os_error.size());
  }
  return reason.empty() ? "no detail from HDF5" : reason;
}

#define H5_CHECK(result, message) RT_CHECK((result) >= 0, message << " (" << hdf5_reason() << ")")

// Files are opened without HDF5's file locks: a report may read metrics.h5 while training appends to it, and
// network filesystems without flock work too. Checkpoints never need them (written once, renamed).
Hdf5Handle file_access() {
  Hdf5Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_file_locking(access.get(), false, true);
  return access;
}

Hdf5Handle property_list(hid_t kind) {
  const hid_t id = H5Pcreate(kind);
  RT_CHECK(id >= 0, "HDF5 could not create a property list (" << hdf5_reason() << ")");
  return Hdf5Handle(id, H5Pclose);
}

std::vector<hsize_t> dimensions(const std::vector<std::int64_t>& shape) {
  return std::vector<hsize_t>(shape.begin(), shape.end());
}

// HDF5 trusts the layout it reads: with a damaged chunk size it would read past a chunk's end, and a chunk
// marked as unfiltered would skip its checksum. Before any value is read, every chunk of the dataset must be
// present, checksummed, and as large as its values plus the checksum.
void require_intact_chunks(hid_t dataset, hid_t space, const std::vector<hsize_t>& dims,
                           std::size_t element_bytes, const std::string& where) {
  const std::string damaged = " (the file is damaged or truncated)";
  Hdf5Handle creation(H5Dget_create_plist(dataset), H5Pclose);
  H5_CHECK(creation.get(), where << ": cannot read how it is stored");
  const int rank = static_cast<int>(dims.size());
  std::vector<hsize_t> chunk(dims.size(), 0);
  RT_CHECK(H5Pget_layout(creation.get()) == H5D_CHUNKED &&
               H5Pget_chunk(creation.get(), rank, chunk.data()) == rank,
           where << " is not stored in chunks as ringtrain writes it" << damaged);
  bool checksummed = false;
  for (int i = 0, filters = H5Pget_nfilters(creation.get()); i < filters; ++i) {
    unsigned flags = 0;
    std::size_t parameters = 0;
    checksummed |= H5Pget_filter2(creation.get(), static_cast<unsigned>(i), &flags, &parameters, nullptr, 0,
                                  nullptr, nullptr) == H5Z_FILTER_FLETCHER32;
  }
  RT_CHECK(checksummed, where << " has no fletcher32 checksum" << damaged);
  hsize_t stored_chunks = 0;
  H5_CHECK(H5Dget_num_chunks(dataset, space, &stored_chunks), where << ": cannot count its chunks");
  hsize_t chunk_bytes = element_bytes, chunks = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    RT_CHECK(chunk[d] > 0 && chunk[d] <= (hsize_t{1} << 32) / chunk_bytes,
             where << " has chunks larger than HDF5 allows" << damaged);
    chunk_bytes *= chunk[d];
    chunks *= (dims[d] + chunk[d] - 1) / chunk[d];
    RT_CHECK(chunks <= stored_chunks, where << " has values for which the file stores no chunk" << damaged);
  }
  RT_CHECK(chunks == stored_chunks,
           where << " stores " << stored_chunks << " chunks for " << chunks << damaged);
  for (hsize_t i = 0; i < stored_chunks; ++i) {
    unsigned skipped_filters = 0;
    haddr_t address = 0;
    hsize_t size = 0;
    H5_CHECK(H5Dget_chunk_info(dataset, space, i, nullptr, &skipped_filters, &address, &size),
             where << ": cannot read where chunk " << i << " is");
    RT_CHECK(skipped_filters == 0 && size == chunk_bytes + 4,
             where << ": chunk " << i << " is not stored as written (" << size << " bytes for " << chunk_bytes
                   << " and a checksum)" << damaged);
  }
}

Hdf5Handle text_type(std::size_t length) {
  Hdf5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<std::size_t>(length, 1));
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  return type;
}

}  // namespace

Hdf5Handle& Hdf5Handle::operator=(Hdf5Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Hdf5Handle::reset() {
  if (id_ >= 0 && close_ != nullptr) close_(id_);
  id_ = H5I_INVALID_HID;
}

Hdf5File Hdf5File::create(const std::filesystem::path& path, hsize_t user_block_bytes) {
  silence_hdf5();
  Hdf5Handle creation = property_list(H5P_FILE_CREATE);
  H5_CHECK(H5Pset_userblock(creation.get(), user_block_bytes),
           "cannot set aside " << user_block_bytes << " bytes at the start of " << path.string());
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, creation.get(), file_access().get());
  H5_CHECK(id, "cannot create the HDF5 file " << path.string()
                                              << ": check that its directory exists and is writable");
  return Hdf5File(path, Hdf5Handle(id, H5Fclose));
}

Hdf5File Hdf5File::open_for_reading(const std::filesystem::path& path) {
  silence_hdf5();
  RT_CHECK(std::filesystem::exists(path), "the HDF5 file " << path.string() << " does not exist");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, file_access().get());
  H5_CHECK(id, path.string() << " is not a readable HDF5 file (truncated or damaged?)");
  return Hdf5File(path, Hdf5Handle(id, H5Fclose));
}

Hdf5File Hdf5File::open_for_writing(const std::filesystem::path& path) {
  silence_hdf5();
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, file_access().get());
  H5_CHECK(id, path.string() << " is not an HDF5 file that can be opened for writing");
  return Hdf5File(path, Hdf5Handle(id, H5Fclose));
}

void Hdf5File::write_dataset(const std::string& name, const std::vector<std::int64_t>& shape, hid_t type,
                             const void* values) {
  RT_CHECK(!shape.empty(), path_.string() << ": dataset " << name << " needs at least one dimension");
  const auto dims = dimensions(shape);
  Hdf5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5_CHECK(space.get(), path_.string() << ": cannot describe dataset " << name);
  Hdf5Handle links = property_list(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links.get(), 1);
  Hdf5Handle layout = property_list(H5P_DATASET_CREATE);
  std::vector<hsize_t> chunk = dims;
  for (auto& extent : chunk)
    extent = std::max<hsize_t>(extent, 1);
  H5_CHECK(H5Pset_chunk(layout.get(), static_cast<int>(chunk.size()), chunk.data()),
           path_.string() << ": cannot chunk dataset " << name);
  H5_CHECK(H5Pset_fletcher32(layout.get()), path_.string() << ": cannot add a checksum to dataset " << name);
  Hdf5Handle dataset(
      H5Dcreate2(file_.get(), name.c_str(), type, space.get(), links.get(), layout.get(), H5P_DEFAULT),
      H5Dclose);
  H5_CHECK(dataset.get(), path_.string() << ": cannot create dataset " << name);
  H5_CHECK(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values),
           path_.string() << ": cannot write dataset " << name);
}

void Hdf5File::write(const std::string& name, const std::vector<std::int64_t>& shape, const float* values) {
  write_dataset(name, shape, H5T_NATIVE_FLOAT, values);
}

void Hdf5File::write(const std::string& name, const std::vector<std::int64_t>& shape,
                     const std::int64_t* values) {
  write_dataset(name, shape, H5T_NATIVE_INT64, values);
}

void Hdf5File::write(const std::string& name, const std::vector<std::int64_t>& shape, const double* values) {
  write_dataset(name, shape, H5T_NATIVE_DOUBLE, values);
}

bool Hdf5File::exists(const std::string& name) const {
  // Every group on the way must exist before the last link can be asked about.
  std::size_t end = 0;
  while (end != std::string::npos) {
    end = name.find('/', end + 1);
    const std::string prefix = name.substr(0, end);
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

Hdf5Handle Hdf5File::open_dataset(const std::string& name) const {
  RT_CHECK(exists(name), path_.string()
                             << ": dataset " << name << " is missing (the checkpoint is incomplete)");
  Hdf5Handle dataset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  H5_CHECK(dataset.get(), path_.string() << ": cannot open dataset " << name);
  return dataset;
}

template <typename T>
Hdf5Array<T> Hdf5File::read_dataset(const std::string& name, hid_t type) const {
  const Hdf5Handle dataset = open_dataset(name);
  Hdf5Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  H5_CHECK(rank, path_.string() << ": cannot read the shape of dataset " << name);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  const std::string where = path_.string() + ": dataset " + name;
  Hdf5Handle stored(H5Dget_type(dataset.get()), H5Tclose);
  RT_CHECK(stored.get() >= 0 && H5Tequal(stored.get(), type) > 0,
           where << " is not stored as the type ringtrain writes there (the file is damaged)");
  // Before memory is set aside for the values: a damaged size could ask for any amount.
  require_intact_chunks(dataset.get(), space.get(), dims, sizeof(T), where);
  Hdf5Array<T> array;
  std::size_t count = 1;
  for (const hsize_t extent : dims) {
    array.shape.push_back(static_cast<std::int64_t>(extent));
    count *= extent;
  }
  array.values.resize(count);
  if (count > 0) {
    H5_CHECK(H5Dread(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()),
             where << " cannot be read back or fails its checksum");
  }
  return array;
}

Hdf5Array<float> Hdf5File::read_floats(const std::string& name) const {
  return read_dataset<float>(name, H5T_NATIVE_FLOAT);
}

Hdf5Array<std::int64_t> Hdf5File::read_int64s(const std::string& name) const {
  return read_dataset<std::int64_t>(name, H5T_NATIVE_INT64);
}

Hdf5Array<double> Hdf5File::read_doubles(const std::string& name) const {
  return read_dataset<double>(name, H5T_NATIVE_DOUBLE);
}

std::vector<std::string> Hdf5File::datasets_under(const std::string& group) const {
  std::vector<std::string> names;
  if (!exists(group)) return names;
  struct Visit {
    hid_t file;
    std::string group;
    std::vector<std::string>* names;
  } visit{file_.get(), group, &names};
  Hdf5Handle handle(H5Gopen2(file_.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  H5_CHECK(handle.get(), path_.string() << ": cannot open group " << group);
  H5_CHECK(H5Lvisit(
               handle.get(), H5_INDEX_NAME, H5_ITER_INC,
               [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
                 auto& state = *static_cast<Visit*>(data);
                 const std::string full = state.group + "/" + name;
                 const hid_t object = H5Oopen(state.file, full.c_str(), H5P_DEFAULT);
                 if (object < 0) return -1;
                 if (H5Iget_type(object) == H5I_DATASET) state.names->push_back(full);
                 H5Oclose(object);
                 return 0;
               },
               &visit),
           path_.string() << ": cannot list the datasets under " << group);
  return names;
}

void Hdf5File::append(const std::string& name, const std::vector<double>& values) {
  if (!exists(name)) {
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 1024;
    Hdf5Handle space(H5Screate_simple(1, &zero, &unlimited), H5Sclose);
    Hdf5Handle links = property_list(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(links.get(), 1);
    Hdf5Handle layout = property_list(H5P_DATASET_CREATE);
    H5Pset_chunk(layout.get(), 1, &chunk);
    H5Pset_fletcher32(layout.get());
    Hdf5Handle created(H5Dcreate2(file_.get(), name.c_str(), H5T_NATIVE_DOUBLE, space.get(), links.get(),
                                  layout.get(), H5P_DEFAULT),
                       H5Dclose);
    H5_CHECK(created.get(), path_.string() << ": cannot create the series " << name);
  }
  const Hdf5Handle dataset = open_dataset(name);
  const auto old_length = static_cast<hsize_t>(length(name));
  const hsize_t added = values.size(), new_length = old_length + added;
  H5_CHECK(H5Dset_extent(dataset.get(), &new_length), path_.string()
                                                          << ": cannot extend the series " << name);
  Hdf5Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &old_length, nullptr, &added, nullptr);
  Hdf5Handle memory_space(H5Screate_simple(1, &added, nullptr), H5Sclose);
  H5_CHECK(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT,
                    values.data()),
           path_.string() << ": cannot append to the series " << name);
}

std::int64_t Hdf5File::length(const std::string& name) const {
  const Hdf5Handle dataset = open_dataset(name);
  Hdf5Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t extent = 0;
  H5_CHECK(H5Sget_simple_extent_dims(space.get(), &extent, nullptr), path_.string()
                                                                         << ": cannot size " << name);
  return static_cast<std::int64_t>(extent);
}

void Hdf5File::truncate(const std::string& name, std::int64_t new_length) {
  const Hdf5Handle dataset = open_dataset(name);
  const auto extent = static_cast<hsize_t>(std::clamp<std::int64_t>(new_length, 0, length(name)));
  H5_CHECK(H5Dset_extent(dataset.get(), &extent), path_.string() << ": cannot shorten the series " << name);
}

void Hdf5File::set_attribute(const std::string& name, const std::string& value) {
  const Hdf5Handle type = text_type(value.size());
  Hdf5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(file_.get(), name.c_str()) > 0) H5Adelete(file_.get(), name.c_str());
  Hdf5Handle attribute(
      H5Acreate2(file_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5_CHECK(attribute.get(), path_.string() << ": cannot create attribute " << name);
  std::string padded = value;
  padded.resize(std::max<std::size_t>(value.size(), 1), '\0');
  H5_CHECK(H5Awrite(attribute.get(), type.get(), padded.data()), path_.string()
                                                                     << ": cannot write attribute " << name);
}

void Hdf5File::set_attribute(const std::string& name, std::int64_t value) {
  Hdf5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(file_.get(), name.c_str()) > 0) H5Adelete(file_.get(), name.c_str());
  Hdf5Handle attribute(
      H5Acreate2(file_.get(), name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  H5_CHECK(attribute.get(), path_.string() << ": cannot create attribute " << name);
  H5_CHECK(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), path_.string()
                                                                    << ": cannot write attribute " << name);
}

std::optional<std::string> Hdf5File::text_attribute(const std::string& name) const {
  if (H5Aexists(file_.get(), name.c_str()) <= 0) return std::nullopt;
  Hdf5Handle attribute(H5Aopen(file_.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Hdf5Handle stored(H5Aget_type(attribute.get()), H5Tclose);
  RT_CHECK(H5Tget_class(stored.get()) == H5T_STRING && !H5Tis_variable_str(stored.get()),
           path_.string() << ": attribute " << name << " is not fixed-length text");
  const std::size_t size = H5Tget_size(stored.get());
  RT_CHECK(size <= H5Aget_storage_size(attribute.get()),
           path_.string() << ": attribute " << name << " claims more text than the file stores (the file is "
                          << "damaged)");
  const Hdf5Handle type = text_type(size);
  std::string value(size, '\0');
  H5_CHECK(H5Aread(attribute.get(), type.get(), value.data()), path_.string()
                                                                   << ": cannot read attribute " << name);
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  return value;
}

std::optional<std::int64_t> Hdf5File::integer_attribute(const std::string& name) const {
  if (H5Aexists(file_.get(), name.c_str()) <= 0) return std::nullopt;
  Hdf5Handle attribute(H5Aopen(file_.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Hdf5Handle stored(H5Aget_type(attribute.get()), H5Tclose);
  RT_CHECK(H5Tget_class(stored.get()) == H5T_INTEGER && H5Tget_size(stored.get()) <= sizeof(std::int64_t),
           path_.string() << ": attribute " << name << " is not an integer");
  std::int64_t value = 0;
  H5_CHECK(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), path_.string()
                                                                   << ": cannot read attribute " << name);
  return value;
}

void Hdf5File::flush() {
  H5_CHECK(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), path_.string() << ": cannot flush");
}

void Hdf5File::close() {
  if (file_.get() < 0) return;
  const herr_t result = H5Fclose(file_.release());
  H5_CHECK(result, path_.string() << ": closing the file failed");
}

}  // namespace ringtrain
