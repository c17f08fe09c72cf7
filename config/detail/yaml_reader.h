#pragma once
// Reading yaml-cpp nodes into values with errors that name file:line:col and the key path.
// Everything here reads the raw scalar text and parses it itself: yaml-cpp's as<T>() would
// accept floats for money and throw its own exception types.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "core/money.h"

namespace rfarm::config::detail {

// The file being read: its name for messages and its directory for relative paths.
class Reader {
 public:
  Reader(std::string file, std::filesystem::path base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  const std::string& file() const { return file_; }
  const std::filesystem::path& base_dir() const { return base_dir_; }

  // 1-based line:col of a node (1:1 when yaml-cpp has no mark for it).
  SourceLocation where(const YAML::Node& node) const;

  [[noreturn]] void fail(const YAML::Node& node, std::string_view key_path, std::string_view problem,
                         std::string_view fix = {}) const;

 private:
  std::string file_;
  std::filesystem::path base_dir_;
};

// "cluster" + "name" -> "cluster.name"; "" + "cluster" -> "cluster".
std::string join_path(std::string_view parent, std::string_view key);
// "accounts" + 2 -> "accounts[2]".
std::string index_path(std::string_view parent, std::size_t index);

struct Entry {
  YAML::Node key;
  YAML::Node value;
  std::string name;  // the key's text
  std::string path;  // the value's key path
};

// A mapping whose keys were checked: all plain scalars, no duplicates, and (for a fixed schema)
// each one of the allowed names, or an error with a "did you mean" suggestion.
class MapView {
 public:
  MapView(YAML::Node node, std::string path, std::vector<Entry> entries)
      : node_(std::move(node)), path_(std::move(path)), entries_(std::move(entries)) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // The entry for `key`, or nullptr when the file leaves it out. An entry with no value ("key:")
  // is returned: readers of scalars reject it, readers of maps and lists take it as empty.
  const Entry* get(std::string_view key) const;

 private:
  YAML::Node node_;
  std::string path_;
  std::vector<Entry> entries_;
};

// A mapping with keys from `allowed`.
MapView read_map(const Reader& r, const YAML::Node& node, const std::string& path,
                 std::span<const std::string_view> allowed);
// A mapping whose keys are names chosen by the user (GPU models, unix users).
MapView read_free_map(const Reader& r, const YAML::Node& node, const std::string& path);

// A sequence's elements (an empty sequence is fine).
std::vector<YAML::Node> read_sequence(const Reader& r, const YAML::Node& node, std::string_view path);

std::string read_string(const Reader& r, const YAML::Node& node, std::string_view path);
std::vector<std::string> read_string_list(const Reader& r, const YAML::Node& node, std::string_view path);
std::int64_t read_int(const Reader& r, const YAML::Node& node, std::string_view path, std::int64_t min,
                      std::int64_t max);
bool read_bool(const Reader& r, const YAML::Node& node, std::string_view path);
// A token amount ("2.5", "10") as base units with `decimals` decimals (core/money.h's parser).
Amount read_amount(const Reader& r, const YAML::Node& node, std::string_view path, int decimals);
// A fraction "5%", "0.05" or "1" as parts per million, within [0, 1].
std::uint32_t read_ppm(const Reader& r, const YAML::Node& node, std::string_view path);
// A duration "7d", "36h", "90m", "3600s" or plain seconds, as seconds.
std::int64_t read_duration(const Reader& r, const YAML::Node& node, std::string_view path,
                           std::int64_t max_seconds);
// A file system path; a relative one is taken relative to the file's directory.
std::filesystem::path read_path(const Reader& r, const YAML::Node& node, std::string_view path);
// A name from a fixed set ("local" | "slurm"): returns its index in `choices`.
std::size_t read_choice(const Reader& r, const YAML::Node& node, std::string_view path,
                        std::span<const std::string_view> choices);

// The mark-carrying node for messages about a whole entry (its key, else the map).
const YAML::Node& entry_anchor(const MapView& map, std::string_view key);

}  // namespace rfarm::config::detail
