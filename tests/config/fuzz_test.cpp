// Seeded random mutations of valid files: every result either loads or throws rfarm::Error with
// one line that names the file. Never a crash, never another exception type. Runs under
// ASan/UBSan in the sanitizer build; RFARM_CONFIG_FUZZ_ITERATIONS raises the count for a long run.
#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"
#include "support/process.h"

namespace rfarm::config {
namespace {

constexpr int kDefaultIterations = 2000;
constexpr int kMaxMutationsPerCase = 4;

const char* const kCompact = R"(token: {symbol: RFT, decimals: 2}
cluster: {name: a, backend: slurm, partitions: [p, q], gpu_models: [h100]}
prices: {gpu_hour: {h100: "2.5"}, cpu_core_hour: 0.04}
accounts:
  - {name: s, unix_users: [alice]}
users: {alice: s}
verification: {cheat_fraction: 5%, detection_probability: 99.9%}
stake: {unbonding_delay: 7d}
)";

// Values of other types and shapes, swapped in for a scalar after "key: ".
const char* const kSwaps[] = {"[]", "{}", "~", "-1", "99999999999999999999999", "\"\"", "1.5", "true",
                              "[a, b]", "{a: 1}", "&x 1", "*x", "!!binary AAAA", "|\n  text", "0x10",
                              "100%", "-0", "1e9", "\"\\u0000\"", "? a"};
const char kInteresting[] = ":-[]{}\"'&*!%#|>?,\t\n @`\\";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    cur += c;
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

std::string mutate(std::string text, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  switch (rng() % 8) {
    case 0:  // flip a byte to anything
      if (!text.empty()) text[pick(text.size())] = static_cast<char>(rng() & 0xff);
      break;
    case 1:  // replace a byte with one YAML cares about
      if (!text.empty()) text[pick(text.size())] = kInteresting[pick(sizeof kInteresting - 1)];
      break;
    case 2:  // truncate
      text.resize(pick(text.size() + 1));
      break;
    case 3: {  // delete a range
      const std::size_t at = pick(text.size() + 1);
      text.erase(at, pick(32));
      break;
    }
    case 4: {  // duplicate a line
      auto lines = lines_of(text);
      if (!lines.empty()) {
        const std::size_t i = pick(lines.size());
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(pick(lines.size() + 1)), lines[i]);
      }
      text = join(lines);
      break;
    }
    case 5: {  // change a line's indentation
      auto lines = lines_of(text);
      if (!lines.empty()) {
        std::string& l = lines[pick(lines.size())];
        if (rng() % 2 && !l.empty() && l[0] == ' ') l.erase(0, 1 + pick(4));
        else l.insert(0, 1 + pick(4), ' ');
      }
      text = join(lines);
      break;
    }
    case 6: {  // swap a value for one of another type
      auto lines = lines_of(text);
      if (!lines.empty()) {
        std::string& l = lines[pick(lines.size())];
        const auto colon = l.find(": ");
        if (colon != std::string::npos) l = l.substr(0, colon + 2) + kSwaps[pick(std::size(kSwaps))] + "\n";
      }
      text = join(lines);
      break;
    }
    default: {  // swap two lines
      auto lines = lines_of(text);
      if (lines.size() > 1) std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
      text = join(lines);
      break;
    }
  }
  return text;
}

TEST(Fuzz, MutatedFilesLoadOrGiveOneLineError) {
  const std::vector<std::string> seeds = {
      rfarm::testing::read_file(rfarm::testing::source_dir() / "config" / "rfarm.example.yaml"), kCompact};
  int iterations = kDefaultIterations;
  if (const char* n = std::getenv("RFARM_CONFIG_FUZZ_ITERATIONS")) iterations = std::max(1, std::atoi(n));

  std::mt19937_64 rng(20261124);
  int loaded = 0, refused = 0;
  for (int i = 0; i < iterations; ++i) {
    std::string text = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int mutations = 1 + static_cast<int>(rng() % kMaxMutationsPerCase);
    for (int m = 0; m < mutations; ++m) text = mutate(std::move(text), rng);
    try {
      load_config_text(text, "fuzz.yaml", "/etc/rfarm");
      ++loaded;
    } catch (const Error& e) {
      ++refused;
      const std::string msg = e.what();
      ASSERT_EQ(e.kind(), Error::Kind::BadInput) << msg;
      ASSERT_EQ(msg.rfind("fuzz.yaml:", 0), 0u) << msg << "\ninput #" << i << ":\n" << text;
      const bool one_line = std::none_of(msg.begin(), msg.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
      ASSERT_TRUE(one_line) << msg << "\ninput #" << i << ":\n" << text;
    } catch (const std::exception& e) {
      FAIL() << "input #" << i << " threw " << typeid(e).name() << ": " << e.what() << "\n" << text;
    }
  }
  // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
  EXPECT_GT(loaded, iterations / 20);
  EXPECT_GT(refused, iterations / 4);
  std::printf("fuzz: %d loaded, %d refused\n", loaded, refused);
}

TEST(Fuzz, HostileInputs) {
  const std::string deep_list(20'000, '[');
  const std::string deep_map = [] {
    std::string t;
    for (int i = 0; i < 1'000; ++i) t += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
    return t;
  }();
  std::string fan_out = "x: &a [1, 2, 3]\naccounts:\n";
  for (int i = 0; i < 2'000; ++i) fan_out += "  - *a\n";
  const std::vector<std::string> inputs = {
      deep_list, "cluster: " + deep_list, deep_map, fan_out, std::string("cluster:\0 {}", 12),
      "\xEF\xBB\xBF" "cluster: {name: a}\n", "cluster:\r\n  name: a\r\n", "---\n", "--- a\n--- b\n",
      "cluster: &c {name: a}\ntoken: *c\n", "cluster: *nope\n", "!!map {cluster: {}}\n", "? [a]\n: b\n",
      "cluster: {name: a, name: b}\n", "\"\\x\"\n", std::string(1000, '-'), "%YAML 9.9\n---\n{}\n"};
  for (const std::string& text : inputs) {
    try {
      load_config_text(text, "hostile.yaml", "/");
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("hostile.yaml:", 0), 0u) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << typeid(e).name() << ": " << e.what() << "\nfor: " << text.substr(0, 80);
    }
  }
}

}  // namespace
}  // namespace rfarm::config
