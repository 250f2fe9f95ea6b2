// Tests of the IDX reader: good files read back raw and gzipped; every bad file is an error naming path and
// field.
#include <gtest/gtest.h>

#include "core/check.hpp"
#include "core/data/idx.hpp"
#include "tests/data/idx_test_files.hpp"

namespace ringtrain::data {
namespace {

using testing::Compression;
using testing::expect_error_mentioning;
using testing::TemporaryDirectory;
using testing::write_file;

class IdxReadBack : public ::testing::TestWithParam<Compression> {};

TEST_P(IdxReadBack, ImagesAndLabelsComeBackAsWritten) {
  TemporaryDirectory dir;
  const IdxImages written = testing::patterned_images(5, 3, 4);
  const std::vector<std::uint8_t> labels{7, 0, 9, 3, 3};
  write_file(dir.path() / "images", testing::idx_images_bytes(written), GetParam());
  write_file(dir.path() / "labels", testing::idx_labels_bytes(labels), GetParam());

  const IdxImages images = read_idx_images(dir.path() / "images");
  EXPECT_EQ(images.count, 5);
  EXPECT_EQ(images.rows, 3);
  EXPECT_EQ(images.cols, 4);
  EXPECT_EQ(images.pixels, written.pixels);
  EXPECT_EQ(read_idx_labels(dir.path() / "labels").labels, labels);
}

std::string compression_name(const ::testing::TestParamInfo<Compression>& compression) {
  return compression.param == Compression::none ? "raw" : "gzip";
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxReadBack, ::testing::Values(Compression::none, Compression::gzip),
                         compression_name);

TEST(IdxErrors, MissingFileNamesThePathAndTheFetchScript) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "train-images-idx3-ubyte";
  expect_error_mentioning([&] { read_idx_images(path); },
                          {path.string(), "does not exist", "fetch-mnist.sh"});
  expect_error_mentioning([&] { read_idx_labels(path); }, {path.string(), "does not exist"});
}

TEST(IdxErrors, TruncatedHeaderGivesBytesFoundAndExpected) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "short";
  std::vector<std::uint8_t> bytes = testing::idx_images_bytes(testing::patterned_images(1, 2, 2));
  bytes.resize(10);
  write_file(path, bytes);
  expect_error_mentioning([&] { read_idx_images(path); },
                          {path.string(), "header", "10 bytes", "expected 16"});
  bytes = testing::idx_labels_bytes({1, 2, 3});
  bytes.resize(5);
  write_file(path, bytes, Compression::gzip);
  expect_error_mentioning([&] { read_idx_labels(path); }, {path.string(), "header", "5 bytes", "expected 8"});
}

TEST(IdxErrors, WrongMagicIsPrintedInHexWithTheExpectedOne) {
  TemporaryDirectory dir;
  const auto labels_path = dir.path() / "labels";
  write_file(labels_path, testing::idx_labels_bytes({1, 2}));
  expect_error_mentioning([&] { read_idx_images(labels_path); },
                          {labels_path.string(), "magic 0x00000801", "label file", "expected 0x00000803"});
  const auto junk_path = dir.path() / "junk";
  write_file(junk_path, testing::idx_file_bytes(0xdeadbeef, {1}, {0}), Compression::gzip);
  expect_error_mentioning([&] { read_idx_labels(junk_path); },
                          {junk_path.string(), "magic 0xdeadbeef", "expected 0x00000801"});
}

TEST(IdxErrors, TruncatedDataGivesBytesExpectedAndGot) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "images.gz";
  std::vector<std::uint8_t> bytes = testing::idx_images_bytes(testing::patterned_images(3, 2, 2));
  bytes.resize(16 + 7);
  write_file(path, bytes, Compression::gzip);
  expect_error_mentioning([&] { read_idx_images(path); },
                          {path.string(), "truncated", "data has 7 bytes", "expected 12"});
  const auto labels_path = dir.path() / "labels";
  write_file(labels_path, testing::idx_file_bytes(kIdxLabelsMagic, {4}, {1, 2}));
  expect_error_mentioning([&] { read_idx_labels(labels_path); },
                          {labels_path.string(), "data has 2 bytes", "expected 4"});
}

TEST(IdxErrors, AHeaderClaimingFarMoreThanTheFileHoldsIsTruncationNotAnAllocation) {
  // 20 million images of 28x28 are 15.7 GB: memory grows as the data comes, so the file's end comes first.
  TemporaryDirectory dir;
  for (const auto compression : {Compression::none, Compression::gzip}) {
    const auto path = dir.path() / (compression == Compression::gzip ? "images.gz" : "images");
    write_file(
        path,
        testing::idx_file_bytes(kIdxImagesMagic, {20'000'000, 28, 28}, std::vector<std::uint8_t>(5000, 7)),
        compression);
    expect_error_mentioning([&] { read_idx_images(path); },
                            {path.string(), "truncated", "data has 5000 bytes", "expected 15680000000"});
  }
}

TEST(IdxErrors, CorruptGzipStreamNamesThePath) {
  TemporaryDirectory dir;
  const auto whole = dir.path() / "whole.gz";
  write_file(whole, testing::idx_images_bytes(testing::patterned_images(50, 28, 28)), Compression::gzip);
  const auto size = std::filesystem::file_size(whole);
  const auto cut = dir.path() / "cut.gz";
  std::filesystem::copy_file(whole, cut);
  std::filesystem::resize_file(cut, size / 2);
  expect_error_mentioning([&] { read_idx_images(cut); },
                          {cut.string(), "unexpected end of file", "download it again"});
}

TEST(IdxErrors, BytesBeyondThePayloadTheHeaderDeclaresAreRefused) {
  // Two files joined, or a header that undercounts: reading only the declared part would train on a prefix.
  TemporaryDirectory dir;
  for (const auto compression : {Compression::none, Compression::gzip}) {
    const auto path = dir.path() / (compression == Compression::gzip ? "images.gz" : "images");
    std::vector<std::uint8_t> bytes = testing::idx_images_bytes(testing::patterned_images(3, 2, 2));
    bytes.push_back(0);
    write_file(path, bytes, compression);
    expect_error_mentioning(
        [&] { read_idx_images(path); },
        {path.string(), "more than the 12 bytes of data its header declares", "download it again"});
    const auto labels_path = dir.path() / "labels";
    std::vector<std::uint8_t> labels = testing::idx_labels_bytes({1, 2, 3});
    labels.insert(labels.end(), labels.begin(), labels.end());
    write_file(labels_path, labels, compression);
    expect_error_mentioning([&] { read_idx_labels(labels_path); },
                            {labels_path.string(), "more than the 3 bytes"});
  }
}

TEST(IdxErrors, AFileTheUserNamedIsAdvisedAboutNotFetchedAgain) {
  TemporaryDirectory dir;
  const IdxAdvice advice = named_file_advice("--images");
  const auto missing = dir.path() / "digits.idx";
  expect_error_mentioning([&] { read_idx_images(missing, advice); },
                          {missing.string(), "does not exist", "check the path given to --images"});
  expect_error_mentioning([&] { read_idx_images(dir.path(), advice); },
                          {"not a regular file", "give --images an IDX file"});
  const auto cut = dir.path() / "cut.idx";
  std::vector<std::uint8_t> bytes = testing::idx_images_bytes(testing::patterned_images(2, 2, 2));
  bytes.pop_back();
  write_file(cut, bytes);
  try {
    read_idx_images(cut, advice);
    ADD_FAILURE() << "a truncated file was read";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--images takes a whole IDX file"), std::string::npos) << message;
    EXPECT_EQ(message.find("fetch-mnist"), std::string::npos) << message;
  }
}

TEST(IdxErrors, ZeroOrAbsurdDimensionsNameTheField) {
  TemporaryDirectory dir;
  const auto path = dir.path() / "images";
  write_file(path, testing::idx_file_bytes(kIdxImagesMagic, {2, 0, 28}, {}));
  expect_error_mentioning([&] { read_idx_images(path); }, {path.string(), "rows = 0"});
  write_file(path, testing::idx_file_bytes(kIdxImagesMagic, {0, 28, 28}, {}));
  expect_error_mentioning([&] { read_idx_images(path); },
                          {path.string(), "holds no images (count = 0 in its header)"});
  write_file(path, testing::idx_file_bytes(kIdxImagesMagic, {2, 28, 0xffffffffu}, {}));
  expect_error_mentioning([&] { read_idx_images(path); }, {path.string(), "cols = 4294967295"});
  write_file(path, testing::idx_file_bytes(kIdxImagesMagic, {90'000'000, 1000, 1000}, {}));
  expect_error_mentioning([&] { read_idx_images(path); }, {path.string(), "90000000 images of 1000x1000"});
  write_file(path, testing::idx_file_bytes(kIdxLabelsMagic, {0x80000000u}, {}));
  expect_error_mentioning([&] { read_idx_labels(path); }, {path.string(), "count = 2147483648"});
}

}  // namespace
}  // namespace ringtrain::data
