// IDX reader: a big-endian header (magic, dimensions) followed by the unsigned-byte payload.
#include "core/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>

#include "core/check.hpp"

namespace ringtrain::data {

namespace {

// Generous limits that no real IDX file reaches; anything above means a corrupt header.
constexpr std::int64_t kMaxCount = 100'000'000;
constexpr std::int64_t kMaxSide = 65'536;
constexpr std::int64_t kMaxPayloadBytes = std::int64_t{16} << 30;

std::string hex(std::uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

const char* describe_magic(std::uint32_t magic) {
  if (magic == kIdxImagesMagic) return " (an IDX image file)";
  if (magic == kIdxLabelsMagic) return " (an IDX label file)";
  if ((magic >> 16) == 0x1f8b) return " (gzip data: was the file compressed twice?)";
  return "";
}

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// An open IDX file: reads that report how many bytes came back, and errors that name the path.
class IdxFile {
 public:
  IdxFile(const std::filesystem::path& path, const IdxAdvice& advice) : path_(path), advice_(advice) {
    std::error_code error;
    RT_CHECK(std::filesystem::exists(path, error),
             "IDX file '" << path.string() << "' does not exist: " << advice.missing);
    RT_CHECK(std::filesystem::is_regular_file(path, error),
             "IDX file '" << path.string() << "' is not a regular file: " << advice.not_a_file);
    file_.reset(gzopen(path.c_str(), "rb"));
    RT_CHECK(file_ != nullptr, "cannot open IDX file '" << path.string() << "': check its permissions");
  }

  const std::filesystem::path& path() const { return path_; }
  const IdxAdvice& advice() const { return advice_; }

  // Reads up to `bytes` bytes; returns how many were read (fewer at the end of the file). A damaged gzip
  // stream is an error.
  std::int64_t read(void* destination, std::int64_t bytes) {
    std::int64_t total = 0;
    auto* out = static_cast<unsigned char*>(destination);
    while (total < bytes) {
      const auto chunk = static_cast<unsigned>(std::min<std::int64_t>(bytes - total, INT_MAX / 2));
      const int got = gzread(file_.get(), out + total, chunk);
      if (got > 0) {
        total += got;
        continue;
      }
      int code = Z_OK;
      const char* message = gzerror(file_.get(), &code);
      RT_CHECK(code == Z_OK, "cannot read IDX file '" << path_.string() << "' after " << total << " of "
                                                      << bytes << " bytes: " << message << "; the file is "
                                                      << "corrupt: " << advice_.damaged);
      break;
    }
    return total;
  }

  // Reads the header: the magic (checked first, so that a wrong file is named as such whatever its size) and
  // `dimension_count` sizes, all big-endian 32-bit.
  std::vector<std::int64_t> read_header(std::uint32_t expected_magic, int dimension_count, const char* kind) {
    const std::int64_t header_bytes = 4 * (1 + dimension_count);
    std::array<unsigned char, 16> header{};
    std::int64_t got = read(header.data(), 4);
    if (got == 4) {
      const std::uint32_t magic = big_endian(header.data());
      RT_CHECK(magic == expected_magic, "IDX " << kind << " file '" << path_.string() << "' has magic "
                                               << hex(magic) << describe_magic(magic) << ", expected "
                                               << hex(expected_magic)
                                               << "; check that the right file is in the right place");
      got += read(header.data() + 4, header_bytes - 4);
    }
    RT_CHECK(got == header_bytes, "IDX " << kind << " file '" << path_.string()
                                         << "' is truncated: header has " << got << " bytes, expected "
                                         << header_bytes << ": " << advice_.damaged);
    std::vector<std::int64_t> dims;
    for (int axis = 0; axis < dimension_count; ++axis)
      dims.push_back(big_endian(header.data() + 4 * (axis + 1)));
    return dims;
  }

  // Reads exactly `bytes` bytes of payload into `destination`, which grows as the data comes: a damaged
  // header that claims more than the file holds asks for no more memory than the file has.
  void read_payload(std::vector<std::uint8_t>& destination, std::int64_t bytes, const char* kind) {
    constexpr std::int64_t kPiece = std::int64_t{32} << 20;
    // Address space set aside up front is not resident until written, and spares the copies of growing.
    constexpr std::int64_t kReserved = std::int64_t{256} << 20;
    destination.clear();
    destination.reserve(static_cast<std::size_t>(std::min(bytes, kReserved)));
    std::int64_t got = 0;
    while (got < bytes) {
      const std::int64_t wanted = std::min(kPiece, bytes - got);
      destination.resize(static_cast<std::size_t>(got + wanted));
      const std::int64_t came = read(destination.data() + got, wanted);
      got += came;
      if (came < wanted) break;
    }
    destination.resize(static_cast<std::size_t>(got));
    RT_CHECK(got == bytes, "IDX " << kind << " file '" << path_.string() << "' is truncated: data has " << got
                                  << " bytes, expected " << bytes << " from its header: " << advice_.damaged);
    // A longer file is not the one its header describes (two files joined, a wrong header).
    unsigned char beyond = 0;
    RT_CHECK(read(&beyond, 1) == 0, "IDX " << kind << " file '" << path_.string() << "' holds more than the "
                                           << bytes
                                           << " bytes of data its header declares: " << advice_.damaged);
  }

 private:
  static std::uint32_t big_endian(const unsigned char* bytes) {
    return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 | std::uint32_t{bytes[2]} << 8 |
           std::uint32_t{bytes[3]};
  }

  std::filesystem::path path_;
  IdxAdvice advice_;
  GzHandle file_;
};

void check_dimension(const IdxFile& file, const char* kind, const char* field, std::int64_t value,
                     std::int64_t limit) {
  RT_CHECK(value > 0 && value <= limit, "IDX " << kind << " file '" << file.path().string() << "' has "
                                               << field << " = " << value << " in its header, expected 1.."
                                               << limit
                                               << "; the file is corrupt: " << file.advice().damaged);
}

// An empty file is whole, but holds nothing to train or predict on.
void check_count(const IdxFile& file, const char* kind, std::int64_t count) {
  RT_CHECK(count != 0, "IDX " << kind << " file '" << file.path().string() << "' holds no " << kind
                              << "s (count = 0 in its header): give a file with at least one");
  check_dimension(file, kind, "count", count, kMaxCount);
}

}  // namespace

IdxAdvice mnist_file_advice() {
  return {
      "run scripts/fetch-mnist.sh to download MNIST, or pass --data DIR pointing at the directory that "
      "holds it",
      "point --data at the directory that holds the MNIST files",
      "download it again (scripts/fetch-mnist.sh)"};
}

IdxAdvice named_file_advice(const std::string& option) {
  return {"check the path given to " + option, "give " + option + " an IDX file",
          option + " takes a whole IDX file (as MNIST's t10k-images-idx3-ubyte): write it again"};
}

IdxImages read_idx_images(const std::filesystem::path& path, const IdxAdvice& advice) {
  IdxFile file(path, advice);
  const std::vector<std::int64_t> dims = file.read_header(kIdxImagesMagic, 3, "image");
  IdxImages images;
  images.count = dims[0];
  images.rows = dims[1];
  images.cols = dims[2];
  check_count(file, "image", images.count);
  check_dimension(file, "image", "rows", images.rows, kMaxSide);
  check_dimension(file, "image", "cols", images.cols, kMaxSide);
  const std::int64_t payload = images.count * images.rows * images.cols;
  RT_CHECK(payload <= kMaxPayloadBytes, "IDX image file '" << path.string() << "' declares " << images.count
                                                           << " images of " << images.rows << "x"
                                                           << images.cols << " = " << payload
                                                           << " bytes, more than the " << kMaxPayloadBytes
                                                           << " this reader accepts; the header is corrupt");
  file.read_payload(images.pixels, payload, "image");
  return images;
}

IdxLabels read_idx_labels(const std::filesystem::path& path, const IdxAdvice& advice) {
  IdxFile file(path, advice);
  const std::vector<std::int64_t> dims = file.read_header(kIdxLabelsMagic, 1, "label");
  check_count(file, "label", dims[0]);
  IdxLabels labels;
  file.read_payload(labels.labels, dims[0], "label");
  return labels;
}

}  // namespace ringtrain::data
