#include "text_table.h"

#include <algorithm>

namespace lw::cli {

std::string TextTable::render(const std::string& indent) const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) widths[c] = columns_[c].title.size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      const std::string pad(widths[c] - std::min(widths[c], cell.size()), ' ');
      if (c > 0) out += "  ";
      out += columns_[c].align == Align::right ? pad + cell : cell + pad;
    }
    while (out.size() > indent.size() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::vector<std::string> titles;
  for (const auto& col : columns_) titles.push_back(col.title);
  std::string out = line(titles);
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace lw::cli
