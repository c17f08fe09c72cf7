#include "scheduler/directives.h"

#include <fstream>

#include "core/error.h"

namespace rfarm::scheduler {

bool is_job_file(const std::filesystem::path& scene) {
  const auto ext = scene.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

std::vector<std::string> read_rfarm_directives(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(Error::Kind::Io, file.string() + ": cannot read the job file");
  std::vector<std::string> words;
  std::string line;
  std::size_t bytes = 0;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    bytes += line.size() + 1;
    if (bytes > kMaxDirectiveBytes)
      throw_input_error({file.string(), line_no, 1}, "#RFARM", "the header is longer than 64 KiB",
                        "put fewer options in the file");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;  // blank
    if (line[first] != '#') break;             // the YAML body starts
    if (line.compare(first, 6, "#RFARM") != 0) continue;
    const std::size_t start = first + 6;
    if (start < line.size() && line[start] != ' ' && line[start] != '\t') continue;  // "#RFARMX"
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = start; i < line.size(); ++i) {
      const char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
        else word += c;
      } else if (c == '\'' || c == '"') {
        quote = c;
        in_word = true;
      } else if (c == ' ' || c == '\t') {
        if (in_word) words.push_back(std::move(word));
        word.clear();
        in_word = false;
      } else {
        word += c;
        in_word = true;
      }
    }
    if (quote)
      throw_input_error({file.string(), line_no, static_cast<int>(line.size())}, "#RFARM", "unterminated quote",
                        "close the quote on the same line");
    if (in_word) words.push_back(std::move(word));
    if (words.size() > kMaxDirectiveWords)
      throw_input_error({file.string(), line_no, 1}, "#RFARM", "more than 512 words", "put fewer options in the file");
  }
  return words;
}

}  // namespace rfarm::scheduler
