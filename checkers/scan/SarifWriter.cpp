// SPDX-License-Identifier: GPL-2.0-only
#include "SarifWriter.h"

#include "RuleCatalog.h"

#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace hvo::scan {

namespace {

// RFC 3986: keep unreserved characters and '/', escape the rest.
std::string uriPath(llvm::StringRef Path) {
  std::string Out;
  for (unsigned char C : Path) {
    if (std::isalnum(C) || C == '-' || C == '.' || C == '_' || C == '~' || C == '/') {
      Out += static_cast<char>(C);
    } else {
      static const char Hex[] = "0123456789ABCDEF";
      Out += '%';
      Out += Hex[C >> 4];
      Out += Hex[C & 15];
    }
  }
  return Out;
}

void physicalLocation(llvm::json::OStream &J, const FindingLocation &Where) {
  J.attributeObject("physicalLocation", [&] {
    J.attributeObject("artifactLocation", [&] {
      if (llvm::StringRef(Where.File).starts_with("/")) {
        J.attribute("uri", "file://" + uriPath(Where.File));
      } else {
        J.attribute("uri", uriPath(Where.File));
        J.attribute("uriBaseId", "SRCROOT");
      }
    });
    if (Where.Line > 0)
      J.attributeObject("region", [&] {
        J.attribute("startLine", Where.Line);
        J.attribute("startColumn", Where.Column);
      });
  });
}

} // namespace

void writeSarif(llvm::raw_ostream &OS, const std::vector<Finding> &Findings,
                const std::vector<std::string> &RuleIds, const std::string &TreeRoot) {
  std::vector<std::string> Rules = RuleIds;
  for (const Finding &F : Findings)
    if (std::find(Rules.begin(), Rules.end(), F.Check) == Rules.end())
      Rules.push_back(F.Check);
  std::map<std::string, size_t> RuleIndex;
  for (size_t I = 0; I < Rules.size(); ++I)
    RuleIndex.emplace(Rules[I], I);

  llvm::json::OStream J(OS, 2);
  J.object([&] {
    J.attribute("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    J.attribute("version", "2.1.0");
    J.attributeArray("runs", [&] {
      J.object([&] {
        J.attributeObject("tool", [&] {
          J.attributeObject("driver", [&] {
            J.attribute("name", "hvo-scan");
            J.attribute("version", HVO_SCAN_VERSION);
            J.attribute("informationUri", HVO_SCAN_DOCS_BASE_URL "../hvo-scan.md");
            J.attributeArray("rules", [&] {
              for (const std::string &Id : Rules) {
                RuleDescription Rule = describeRule(Id);
                J.object([&] {
                  J.attribute("id", Rule.Id);
                  J.attribute("name", Rule.Id);
                  J.attributeObject("shortDescription",
                                    [&] { J.attribute("text", Rule.ShortDescription); });
                  J.attributeObject("fullDescription",
                                    [&] { J.attribute("text", Rule.FullDescription); });
                  J.attribute("helpUri", Rule.HelpUri);
                  J.attributeObject("defaultConfiguration", [&] {
                    J.attribute("level", llvm::StringRef(Id).starts_with("clang-diagnostic-")
                                             ? "error"
                                             : "warning");
                  });
                });
              }
            });
          });
        });
        J.attributeObject("originalUriBaseIds", [&] {
          J.attributeObject("SRCROOT", [&] {
            std::string Root = TreeRoot;
            if (Root.empty() || Root.back() != '/')
              Root += '/';
            J.attribute("uri", "file://" + uriPath(Root));
          });
        });
        J.attributeArray("results", [&] {
          for (const Finding &F : Findings)
            J.object([&] {
              J.attribute("ruleId", F.Check);
              J.attribute("ruleIndex", static_cast<int64_t>(RuleIndex.at(F.Check)));
              J.attribute("level", F.IsError ? "error" : "warning");
              J.attributeObject("message", [&] { J.attribute("text", F.Message); });
              if (!F.Where.File.empty())
                J.attributeArray("locations", [&] {
                  J.object([&] { physicalLocation(J, F.Where); });
                });
              if (!F.Notes.empty())
                J.attributeArray("relatedLocations", [&] {
                  for (size_t I = 0; I < F.Notes.size(); ++I)
                    if (!F.Notes[I].Where.File.empty())
                      J.object([&] {
                      J.attribute("id", static_cast<int64_t>(I + 1));
                      physicalLocation(J, F.Notes[I].Where);
                      J.attributeObject("message",
                                        [&] { J.attribute("text", F.Notes[I].Message); });
                    });
                });
              J.attributeObject("partialFingerprints",
                                [&] { J.attribute("hvoScanFingerprint/v1", F.Fingerprint); });
            });
        });
      });
    });
  });
  OS << "\n";
}

} // namespace hvo::scan
