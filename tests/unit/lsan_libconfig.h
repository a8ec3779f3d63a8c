/* lsan_libconfig.h - LeakSanitizer suppressions for libconfig's own leaks:
 * its parser has no destructor for a string token that arrives where its
 * grammar wants something else, so those scanner buffers (strbuf_append,
 * libconfig_yylex) are never freed. Not ours to fix; tests and fuzz
 * targets that parse untrusted text still catch dpsec's own leaks. Include
 * in exactly one file of a program. */
#ifndef LSAN_LIBCONFIG_H
#define LSAN_LIBCONFIG_H

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

#endif
