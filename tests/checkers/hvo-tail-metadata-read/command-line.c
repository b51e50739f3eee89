// SPDX-License-Identifier: GPL-2.0-only
// clang-tidy's command line through our runners: --line-filter keeps
// only line 17, --export-fixes writes the fix-it of that line.
// FIXTURE-TIDY-ARGS: '--line-filter=[{"name":"command-line.c","lines":[[17,17]]}]'
// FIXTURE-EXPORT-FIXES: DiagnosticName:  hvo-tail-metadata-read
// FIXTURE-EXPORT-FIXES: ReplacementText: 'folio_nid(folio)'
#include <linux/hugetlb.h>

int filtered_out(struct folio *folio, long i)
{
	return page_to_nid(folio_page(folio, i));
}

int kept(struct folio *folio, long i)
{
	return
	       page_to_nid(folio_page(folio, i));
	// CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'page_to_nid' reads per-page metadata
}
