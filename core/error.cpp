#include "core/error.h"

namespace rfarm {

int Error::exit_code() const noexcept {
  switch (kind_) {
    case Kind::BadInput: return 2;
    case Kind::Refused: return 3;
    case Kind::Integrity: return 4;
    case Kind::Io: return 1;
    case Kind::Internal: return 70;
  }
  return 70;
}

std::string format_input_error(const SourceLocation& where, std::string_view field,
                               std::string_view problem, std::string_view fix) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) {
      out += ':' + std::to_string(where.line);
      if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
  }
  if (!field.empty()) {
    out += field;
    out += ": ";
  }
  out += problem;
  if (!fix.empty()) {
    out += " (";
    out += fix;
    out += ')';
  }
  return out;
}

void throw_input_error(const SourceLocation& where, std::string_view field, std::string_view problem,
                       std::string_view fix) {
  throw Error(Error::Kind::BadInput, format_input_error(where, field, problem, fix));
}

}  // namespace rfarm
