// SPDX-License-Identifier: GPL-2.0-only
//
// A minimal streaming JSON writer for hvo-triage's --json output.  Keys are
// written in the order the caller emits them (never from a hash map), so the
// output is byte-for-byte deterministic.  Strings are escaped per RFC 8259;
// bytes >= 0x80 are written as \u00XX so that arbitrary crash-file names and
// model messages always produce valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hvo::triage {

class JsonWriter {
public:
  JsonWriter &begin_object();
  JsonWriter &end_object();
  JsonWriter &begin_array();
  JsonWriter &end_array();
  JsonWriter &key(std::string_view k);
  JsonWriter &value(std::string_view s);
  JsonWriter &value(const char *s) { return value(std::string_view(s)); }
  JsonWriter &value(const std::string &s) { return value(std::string_view(s)); }
  JsonWriter &value(uint64_t v);
  JsonWriter &value(int64_t v);
  JsonWriter &value(unsigned v) { return value(static_cast<uint64_t>(v)); }
  JsonWriter &value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter &value(bool b);
  JsonWriter &null();

  // The document, with a trailing newline.
  std::string str() const { return out_ + "\n"; }

private:
  void separate();

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

std::string json_escape(std::string_view s);

}  // namespace hvo::triage
