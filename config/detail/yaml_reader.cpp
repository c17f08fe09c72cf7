#include "config/detail/yaml_reader.h"

#include <algorithm>

#include "config/config.h"
#include "config/detail/decimal.h"
#include "config/detail/did_you_mean.h"

namespace rfarm::config::detail {

namespace {

std::string_view type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "nothing";
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

bool has_control(std::string_view text) {
  for (char c : text)
    if (is_control(c)) return true;
  return false;
}

std::string shown_value(std::string_view text) {
  // Keep messages one line and short even when the offending value is neither.
  constexpr std::size_t kMaxShown = 40;
  std::string out = "'";
  for (char c : text.substr(0, kMaxShown)) out += is_control(c) ? '?' : c;
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

MapView read_map_impl(const Reader& r, const YAML::Node& node, const std::string& path,
                      const std::span<const std::string_view>* allowed) {
  std::vector<Entry> entries;
  if (node.IsNull()) return MapView(node, path, std::move(entries));
  if (!node.IsMap())
    r.fail(node, path, "expected a mapping (key: value lines), got " + std::string(type_name(node)),
           allowed ? "valid keys: " + join(*allowed) : "write 'name: value' lines under it");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    // Key text goes into messages: one with a line break in it would break the one-line error.
    if (!key.IsScalar() || key.Scalar().empty() || has_control(key.Scalar()))
      r.fail(key, path, "a key must be a plain name", "write 'name: value'");
    const std::string& name = key.Scalar();
    // Every valid key and name is far shorter; a long one would only bloat the message.
    constexpr std::size_t kMaxKeyLength = 128;
    if (name.size() > kMaxKeyLength)
      r.fail(key, path, "a key is longer than " + std::to_string(kMaxKeyLength) + " characters", "shorten it");
    const std::string child = join_path(path, name);
    if (entries.size() >= kMaxListEntries)
      r.fail(key, path, "more than " + std::to_string(kMaxListEntries) + " entries", "split the file");
    for (const Entry& e : entries) {
      if (e.name == name)
        r.fail(key, child, "duplicate key (first given at line " + std::to_string(r.where(e.key).line) + ")",
               "keep only one");
    }
    if (allowed && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      const auto suggestion = did_you_mean(name, *allowed);
      r.fail(key, child, "unknown key",
             suggestion ? "did you mean '" + *suggestion + "'?" : "valid keys here: " + join(*allowed));
    }
    entries.push_back(Entry{key, it->second, name, child});
  }
  return MapView(node, path, std::move(entries));
}

const std::string& scalar_text(const Reader& r, const YAML::Node& node, std::string_view path,
                               std::string_view fix) {
  if (!node.IsScalar()) r.fail(node, path, "expected " + std::string(fix) + ", got " + std::string(type_name(node)), fix);
  return node.Scalar();
}

}  // namespace

SourceLocation Reader::where(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return SourceLocation{file_, 1, 1};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

void Reader::fail(const YAML::Node& node, std::string_view key_path, std::string_view problem,
                  std::string_view fix) const {
  throw_input_error(where(node), key_path, problem, fix);
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

const Entry* MapView::get(std::string_view key) const {
  for (const Entry& e : entries_)
    if (e.name == key) return &e;
  return nullptr;
}

MapView read_map(const Reader& r, const YAML::Node& node, const std::string& path,
                 std::span<const std::string_view> allowed) {
  return read_map_impl(r, node, path, &allowed);
}

MapView read_free_map(const Reader& r, const YAML::Node& node, const std::string& path) {
  return read_map_impl(r, node, path, nullptr);
}

std::vector<YAML::Node> read_sequence(const Reader& r, const YAML::Node& node, std::string_view path) {
  std::vector<YAML::Node> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence())
    r.fail(node, path, "expected a list, got " + std::string(type_name(node)),
           "write '[a, b]' or one '- item' line per entry");
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (out.size() >= kMaxListEntries)
      r.fail(*it, path, "more than " + std::to_string(kMaxListEntries) + " entries", "shorten the list");
    out.push_back(*it);
  }
  return out;
}

std::string read_string(const Reader& r, const YAML::Node& node, std::string_view path) {
  const std::string& text = scalar_text(r, node, path, "a text value");
  if (text.empty()) r.fail(node, path, "is empty", "give a value or remove the key");
  if (has_control(text)) r.fail(node, path, "contains a control character", "use printable characters only");
  return text;
}

std::vector<std::string> read_string_list(const Reader& r, const YAML::Node& node, std::string_view path) {
  std::vector<std::string> out;
  const auto items = read_sequence(r, node, path);
  for (std::size_t i = 0; i < items.size(); ++i) out.push_back(read_string(r, items[i], index_path(path, i)));
  return out;
}

std::int64_t read_int(const Reader& r, const YAML::Node& node, std::string_view path, std::int64_t min,
                      std::int64_t max) {
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const std::string& text = scalar_text(r, node, path, range);
  std::string why;
  const auto value = parse_decimal(text, 0, true, &why);
  // parse_decimal accepts "3.0" at 0 decimals; a count written with a point is a mistake here.
  if (!value || text.find('.') != std::string::npos)
    r.fail(node, path, shown_value(text) + " is not an integer", range);
  if (*value < min || *value > max) r.fail(node, path, std::to_string(*value) + " is out of range", range);
  return *value;
}

bool read_bool(const Reader& r, const YAML::Node& node, std::string_view path) {
  const std::string& text = scalar_text(r, node, path, "true or false");
  if (text == "true") return true;
  if (text == "false") return false;
  r.fail(node, path, shown_value(text) + " is not a boolean", "true or false");
}

Amount read_amount(const Reader& r, const YAML::Node& node, std::string_view path, int decimals) {
  const std::string fix = "a decimal amount with at most " + std::to_string(decimals) + " decimal places, e.g. \"2.5\"";
  const std::string& text = scalar_text(r, node, path, fix);
  // parse_amount quotes the whole text in its message: keep that one short line.
  constexpr std::size_t kMaxAmountLength = 64;
  if (has_control(text) || text.size() > kMaxAmountLength)
    r.fail(node, path, shown_value(text) + " is not a decimal amount", fix);
  try {
    return parse_amount(text, decimals, path);
  } catch (const Error& e) {
    // parse_amount names the key but cannot know where it is: put file:line:col in front.
    throw Error(Error::Kind::BadInput, format_input_error(r.where(node), "", "", "") + e.what());
  }
}

std::uint32_t read_ppm(const Reader& r, const YAML::Node& node, std::string_view path) {
  const std::string fix = "a fraction like \"5%\" or \"0.05\", at most 6 decimal places of a whole";
  std::string_view text = scalar_text(r, node, path, fix);
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  std::string why;
  // 1% is 10^4 ppm, so a percentage read with 4 decimals is already in ppm.
  const auto value = parse_decimal(text, percent ? 4 : 6, false, &why);
  if (!value) r.fail(node, path, shown_value(node.Scalar()) + " " + why, fix);
  if (*value > kPartsPerMillion) r.fail(node, path, shown_value(node.Scalar()) + " is more than 100%", fix);
  return static_cast<std::uint32_t>(*value);
}

std::int64_t read_duration(const Reader& r, const YAML::Node& node, std::string_view path,
                           std::int64_t max_seconds) {
  const std::string fix = "a whole number with a unit s, m, h or d (e.g. \"7d\"), at most " +
                          std::to_string(max_seconds) + " s";
  std::string_view text = scalar_text(r, node, path, fix);
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3'600; break;
      case 'd': unit = 86'400; break;
      default: unit = 0; break;
    }
    if (unit != 0) text.remove_suffix(1);
    else unit = 1;
  }
  std::string why;
  const auto count = parse_decimal(text, 0, false, &why);
  if (!count || text.find('.') != std::string_view::npos)
    r.fail(node, path, shown_value(node.Scalar()) + " is not a duration", fix);
  if (*count > max_seconds / unit) r.fail(node, path, shown_value(node.Scalar()) + " is too long", fix);
  return *count * unit;
}

std::filesystem::path read_path(const Reader& r, const YAML::Node& node, std::string_view path) {
  std::filesystem::path p = read_string(r, node, path);
  if (p.is_relative()) p = r.base_dir() / p;
  return p.lexically_normal();
}

std::size_t read_choice(const Reader& r, const YAML::Node& node, std::string_view path,
                        std::span<const std::string_view> choices) {
  const std::string fix = "one of: " + join(choices);
  const std::string& text = scalar_text(r, node, path, fix);
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (text == choices[i]) return i;
  const auto suggestion = did_you_mean(text, choices);
  r.fail(node, path, shown_value(text) + " is not a valid choice",
         suggestion ? "did you mean '" + *suggestion + "'? " + fix : fix);
}

const YAML::Node& entry_anchor(const MapView& map, std::string_view key) {
  const Entry* e = map.get(key);
  return e ? e->key : map.node();
}

}  // namespace rfarm::config::detail
