/* The settings as people read them (config.h): the effective ones for
 * `dlcs-admin config`, the table for the README. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "str.h"
#include "banned.h"

void config_show(const struct config *c, FILE *out)
{
	for (size_t i = 0; i < config_count(c); i++) {
		const struct setting *s = config_row(c, (int)i);
		const char *v = setting_str(c, (int)i);
		int line = setting_line(c, (int)i);
		if (v && s->flags & SETTING_SECRET)
			v = "********";
		char from[32] = "default";
		if (line)
			xsnprintf(from, sizeof from, "line %d", line);
		fprintf(out, "%s = %s    # %s: %s\n", s->key, v ? v : "", from, s->doc);
	}
}

/* A cell of the Markdown table: '|' would end it. */
static void cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void config_show_markdown(const struct config *c, FILE *out)
{
	fputs("| key | type | default | meaning |\n|---|---|---|---|\n", out);
	for (size_t i = 0; i < config_count(c); i++) {
		const struct setting *s = config_row(c, (int)i);
		char type[64];
		setting_type_text(s, type, sizeof type);
		fprintf(out, "| `%s` | %s | ", s->key, type);
		if (s->def) {
			fputc('`', out);
			cell(out, s->def);
			fputc('`', out);
		} else {
			fputs("–", out);
		}
		fputs(" | ", out);
		cell(out, s->doc);
		fputs(" |\n", out);
	}
}
