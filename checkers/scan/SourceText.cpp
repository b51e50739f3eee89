// SPDX-License-Identifier: GPL-2.0-only
#include "SourceText.h"

#include <algorithm>
#include <cctype>

namespace hvo::scan {

TextPosition SourceText::position(const std::string &File, unsigned Offset) {
  auto [It, Inserted] = Files.try_emplace(File);
  LoadedFile &Loaded = It->second;
  if (Inserted) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
        llvm::MemoryBuffer::getFile(File, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (Buffer) {
      Loaded.Buffer = std::move(*Buffer);
      llvm::StringRef Text = Loaded.Buffer->getBuffer();
      Loaded.LineStarts.push_back(0);
      for (size_t I = 0; I < Text.size(); ++I)
        if (Text[I] == '\n')
          Loaded.LineStarts.push_back(I + 1);
    }
  }
  TextPosition Position;
  if (!Loaded.Buffer)
    return Position;
  llvm::StringRef Text = Loaded.Buffer->getBuffer();
  Offset = std::min<unsigned>(Offset, Text.size());
  auto Next = std::upper_bound(Loaded.LineStarts.begin(), Loaded.LineStarts.end(), Offset);
  unsigned LineIndex = static_cast<unsigned>(Next - Loaded.LineStarts.begin()) - 1;
  unsigned Start = Loaded.LineStarts[LineIndex];
  Position.Line = LineIndex + 1;
  Position.Column = Offset - Start + 1;
  llvm::StringRef Line = Text.substr(Start).split('\n').first;
  Position.LineText = Line.rtrim("\r").str();
  return Position;
}

std::string normalizedLineText(const std::string &Line) {
  std::string Out;
  bool PendingSpace = false;
  for (char C : Line) {
    if (std::isspace(static_cast<unsigned char>(C))) {
      PendingSpace = !Out.empty();
      continue;
    }
    if (PendingSpace)
      Out += ' ';
    PendingSpace = false;
    Out += C;
  }
  return Out;
}

} // namespace hvo::scan
