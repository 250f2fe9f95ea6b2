// Tests of the report's building blocks: base64 and PNG encoding, text from the font, the chart's zoom on
// accuracy, and the SVG holding one polyline per series.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.hpp"
#include "core/report/chart.hpp"
#include "core/report/font.hpp"
#include "core/report/png.hpp"

namespace ringtrain {
namespace {

TEST(Base64, KnownAnswers) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("M"), "TQ==");
  EXPECT_EQ(base64("Ma"), "TWE=");
  EXPECT_EQ(base64("Man"), "TWFu");
  EXPECT_EQ(base64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(Png, HasTheSignatureAndTheSize) {
  const Image image{3, 2, 1, {0, 64, 128, 192, 255, 7}};
  const std::string bytes = encode_png(image);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(static_cast<unsigned char>(bytes[19]), 3u);  // width, big-endian
  EXPECT_EQ(static_cast<unsigned char>(bytes[23]), 2u);  // height
  EXPECT_THROW(encode_png(Image{3, 2, 1, {1, 2}}), Error);
}

TEST(Font, RendersDigitsWithInk) {
  const Font font = Font::default_font();
  int baseline = 0;
  const Image seven = font.render("7", 26, &baseline);
  EXPECT_GT(seven.width, 5);
  EXPECT_GT(baseline, 10);
  int ink = 0;
  for (const auto value : seven.pixels)
    ink += value > 128;
  EXPECT_GT(ink, 20);
  EXPECT_GT(font.render("10", 26).width, seven.width);
}

TEST(Chart, AccuracyAbove90PercentIsZoomedToTheTop) {
  Chart chart{"accuracy", "epoch", 0, 3, 0, 1, {}};
  chart.series.push_back({"training", {0.5, 1, 2, 3}, {0.5, 0.9, 0.97, 0.985}, {}, 1.2, false});
  chart.series.push_back({"validation", {1, 2, 3}, {0.95, 0.975, 0.991}, {}, 3.5, false});
  fit_y_range(chart, true);
  EXPECT_EQ(chart.y_max, 1.0);
  EXPECT_LE(chart.y_min, 0.9);
  EXPECT_GE(chart.y_min, 0.8);
  Chart low = chart;
  low.series[1].y = {0.5, 0.6, 0.7};
  fit_y_range(low, true);
  EXPECT_LT(low.y_min, 0.5);
}

TEST(Chart, SvgHasOnePathPerSeries) {
  Chart chart{"loss", "epoch", 0, 2, 0, 2, {}};
  chart.series.push_back({"training", {0, 1, 2}, {2, 1, 0.5}, {1, 2, 3}, 1.2, false});
  chart.series.push_back({"learning rate", {0, 1}, {1, 0.5}, {4, 5, 6}, 2, true});
  const std::string svg = chart_svg(chart, 400, 300);
  EXPECT_THAT(svg, testing::StartsWith("<svg"));
  std::size_t paths = 0;
  for (std::size_t at = svg.find("<path class=\"series\""); at != std::string::npos;
       at = svg.find("<path class=\"series\"", at + 1))
    ++paths;
  EXPECT_EQ(paths, 2u);
  EXPECT_THAT(svg, testing::HasSubstr("stroke=\"#010203\""));
  EXPECT_THAT(svg, testing::HasSubstr(">loss</text>"));
}

TEST(Chart, ValuesBelowTheZoomedRangeAreNotDrawnAlongItsEdge) {
  Chart chart{"accuracy", "epoch", 0, 4, 0.9, 1.0, {}};
  chart.series.push_back({"training", {0, 1, 2, 3, 4}, {0.5, 0.6, 0.95, 0.97, 0.98}, {}, 1.2, false});
  const std::string svg = chart_svg(chart, 400, 300);
  const std::size_t start = svg.find(" d=\"");
  ASSERT_NE(start, std::string::npos);
  const std::string path = svg.substr(start, svg.find('"', start + 4) - start);
  // One run, starting where the line enters the range between x = 1 and x = 2.
  EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 1);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'L'), 3);
}

TEST(Chart, ALonePointIsADotAndNonFiniteValuesAreLeftOut) {
  Chart chart{"loss", "epoch", 0, 3, 0, 1, {}};
  chart.series.push_back({"validation", {1}, {0.5}, {}, 3.5, false});
  chart.series.push_back({"training",
                          {0.5, 1, 1.5, 2},
                          {0.9, std::numeric_limits<double>::quiet_NaN(), 0.7, 0.6, 0.5},
                          {},
                          1.2,
                          false});
  fit_y_range(chart, false);
  EXPECT_TRUE(std::isfinite(chart.y_min) && std::isfinite(chart.y_max));
  const std::string svg = chart_svg(chart, 400, 300);
  EXPECT_THAT(svg, testing::HasSubstr("<circle"));
  EXPECT_THAT(svg, testing::Not(testing::HasSubstr("nan")));
}

}  // namespace
}  // namespace ringtrain
