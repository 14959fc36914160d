/* The settings as people read them (config.h): the effective ones for
 * `dlcs-admin config`, the table for the README, and a whole configuration
 * file for an example. */
#include <stdbool.h>
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
		if (s->flags & SETTING_CONFIGURED) {
			fputs("set by `./configure`", out);
		} else if (s->def) {
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

/* text after "# ", wrapped before column 78 at blanks. */
static void comment_wrapped(FILE *out, const char *text)
{
	const size_t width = 76;
	while (*text) {
		size_t n = strlen(text);
		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0) /* one long word: up to the next blank */
				n = strcspn(text, " ");
		}
		fprintf(out, "# %.*s\n", (int)n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
}

void config_show_example(const struct config *c, FILE *out)
{
	fputs("# DLCS configuration: every setting, its meaning, its type and its default\n"
	      "# (`dlcs-admin config --example` writes this file from the table of settings;\n"
	      "# README.md \"Configuration\", dlcs.conf(5)). Every program reads it, from -c\n"
	      "# FILE or $DLCS_CONFIG, and refuses to start on an unknown key or a bad value.\n"
	      "#\n"
	      "# \"key = value\"; a line whose first non-blank is '#' is a comment; an empty\n"
	      "# value, like an absent key, means the default; a key given twice takes its\n"
	      "# last line. The lines below that are not comments are this example's\n"
	      "# settings; the commented ones show the default.\n",
	      out);
	for (size_t i = 0; i < config_count(c); i++) {
		const struct setting *s = config_row(c, (int)i);
		const char *v = setting_str(c, (int)i);
		char type[64], doc[1024];
		setting_type_text(s, type, sizeof type);
		xsnprintf(doc, sizeof doc, "%s: %s", type, s->doc);
		fputc('\n', out);
		comment_wrapped(out, doc);
		bool set = setting_line(c, (int)i) != 0;
		if (set && s->flags & SETTING_SECRET)
			fprintf(out, "# %s: set, not shown\n", s->key);
		else
			fprintf(out, "%s%s =%s%s\n", set ? "" : "#", s->key, v ? " " : "",
				v ? v : "");
	}
}
