/* Named-query templates (handlers/asset/nq_template.c): what parses, what
 * is refused and why, how arguments, '#' values and missing arguments bind,
 * and the order and SQL the bound query gives (asset/query.c). */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "asset/nq_template.h"
#include "asset/query.h"
#include "check.h"

static struct arena *A;
static struct nq_template T;
static struct asset_query Q;

static const char *parse(const char *text)
{
	arena_reset(A);
	return nq_template_parse(A, text, &T);
}

/* Binds T to the arguments given (NULL-terminated); NULL or why not. */
static const char *bind_args(const char *const *args)
{
	size_t n = 0;
	while (args[n])
		n++;
	return nq_bind(A, &T, args, n, &Q, NULL);
}
#define BIND(...) bind_args((const char *const[]){__VA_ARGS__, NULL})

static bool refused(const char *text, const char *mentions)
{
	const char *why = parse(text);
	if (!why || !strstr(why, mentions)) {
		fprintf(stderr, "template %s: %s (wanted a refusal mentioning %s)\n", text,
			why ? why : "accepted", mentions);
		return false;
	}
	return true;
}

static bool has_str(enum aq_field f, size_t i, const char *want)
{
	return Q.v[f].n > i && strcmp(Q.v[f].s[i], want) == 0;
}

static void test_parse(void)
{
	CHECK(parse("canvas=n1&space=p1&s1=p2") == NULL);
	CHECK(T.filter[NQF_SPACE].present && T.filter[NQF_SPACE].arg == 1);
	CHECK(T.filter[NQF_S1].arg == 2 && T.max_arg == 2);
	CHECK(T.norder == 1 && strcmp(T.order[0].column, "a.number1") == 0 &&
	      !T.order[0].descending);

	CHECK(parse("assetOrder=n2 desc;n1;s3+asc&spacename=p1&s3=p2") == NULL);
	CHECK(T.norder == 3);
	CHECK(strcmp(T.order[0].column, "a.number2") == 0 && T.order[0].descending);
	CHECK(strcmp(T.order[1].column, "a.number1") == 0 && !T.order[1].descending);
	CHECK(strcmp(T.order[2].column, "a.string3") == 0 && !T.order[2].descending);

	/* A literal that merely starts with p is a literal (unlike Protagonist). */
	CHECK(parse("s1=pottery&s2=p&s3=p0&manifest=p1x") == NULL);
	CHECK(T.filter[NQF_S1].arg == 0 && strcmp(T.filter[NQF_S1].text, "pottery") == 0);
	CHECK(T.filter[NQF_S2].arg == 0 && T.filter[NQF_S3].arg == 0);
	CHECK(T.filter[NQF_MANIFEST].arg == 0 && T.max_arg == 0);
	CHECK(parse("s1=p99") == NULL && T.filter[NQF_S1].arg == 99);
	CHECK(parse("s1=p100") == NULL && T.filter[NQF_S1].arg == 0);
	CHECK(parse("s1=p01") == NULL && T.filter[NQF_S1].arg == 0);

	CHECK(parse("batch=12,34&manifest=a,b&#=x&#=y&sequence=0") == NULL);
	CHECK(T.nhash == 2 && strcmp(T.hash[1], "y") == 0);
	CHECK(parse("objectname={s1}.pdf&coverpage=p3&redactedmessage=Hidden") == NULL);
	CHECK(T.text[NQT_COVERPAGE].arg == 3 && T.max_arg == 3);
	CHECK(parse("n1=0&space=2147483647") == NULL);
	/* values may hold '=' after the first */
	CHECK(parse("s1=a=b") == NULL && strcmp(T.filter[NQF_S1].text, "a=b") == 0);
}

static void test_refused(void)
{
	CHECK(refused("", "empty"));
	CHECK(refused("s1", "not key=value"));
	CHECK(refused("=x", "not key=value"));
	CHECK(refused("s1=a&&n1=2", "not key=value"));
	CHECK(refused("s1=a&", "not key=value"));
	CHECK(refused("s1=", "empty value"));
	CHECK(refused("colour=red", "unknown key 'colour'"));
	CHECK(refused("S1=a", "unknown key 'S1'"));
	CHECK(refused("s1=a&s1=b", "'s1' is given twice"));
	CHECK(refused("canvas=n1&assetOrder=n2", "given twice"));
	CHECK(refused("n1=abc", "'n1': 'abc' is not a non-negative integer"));
	CHECK(refused("n1=-1", "'n1'"));
	CHECK(refused("n2=99999999999999999999", "'n2'"));
	CHECK(refused("space=0", "'space'"));
	CHECK(refused("space=2147483648", "'space'"));
	CHECK(refused("batch=1,x", "'batch': 'x'"));
	CHECK(refused("batch=1,,2", "'batch' has an empty value"));
	CHECK(refused("manifest=a,", "'manifest' has an empty value"));
	CHECK(refused("canvas=n4", "'assetOrder': 'n4'"));
	CHECK(refused("canvas=n1 up", "asc or desc"));
	CHECK(refused("canvas=n1;", "'assetOrder': ''"));
	CHECK(refused("canvas=n1;n2;n3;s1;s2;s3;n1;n2;n3", "more than 8 keys"));
	CHECK(refused("s1=a\nb", "control character"));
	CHECK(refused("s1=a\x7f", "control character"));
	CHECK(refused("s1=\xc0\xaf", "UTF-8"));
	CHECK(refused("#=1&#=2&#=3&#=4&#=5&#=6&#=7&#=8&#=9&#=10&#=11&#=12&#=13&#=14&#=15&#=16&#=17",
		      "more than 16"));
	/* a long value is quoted cut short, at a character boundary */
	char long_key[300];
	memset(long_key, 'k', sizeof long_key);
	memcpy(long_key + 39, "\xc3\xa9", 2);
	strcpy(long_key + 250, "=1");
	const char *why = parse(long_key);
	CHECK(why && strchr(why, '\xc3') == NULL && strstr(why, "k...") != NULL);
	char huge[NQ_TEMPLATE_MAX + 10];
	memset(huge, 'a', sizeof huge);
	memcpy(huge, "s1=", 3);
	huge[sizeof huge - 1] = '\0';
	CHECK(refused(huge, "longer than"));
}

static void test_bind(void)
{
	/* Arguments fill their pN; a missing trailing one drops its filter. */
	CHECK(parse("canvas=n1&s1=p1&n1=p2") == NULL);
	CHECK(BIND("abc") == NULL);
	CHECK(has_str(AQ_STRING1, 0, "abc") && Q.v[AQ_STRING1].n == 1);
	CHECK(Q.v[AQ_NUMBER1].n == 0);
	CHECK(BIND("abc", "7") == NULL && Q.v[AQ_NUMBER1].n == 1 && Q.v[AQ_NUMBER1].i[0] == 7);
	CHECK(BIND("abc", "seven") != NULL);
	CHECK(strstr(BIND("abc", "seven"), "'n1': 'seven'") != NULL);
	/* pN needs at least one argument... */
	const char *why = nq_bind(A, &T, NULL, 0, &Q, NULL);
	CHECK(why && strstr(why, "at least 1 argument"));
	/* ...unless '#' gives one: it comes after the URL's arguments. */
	CHECK(parse("canvas=n1&s1=p1&#=my-string") == NULL);
	CHECK(nq_bind(A, &T, NULL, 0, &Q, NULL) == NULL && has_str(AQ_STRING1, 0, "my-string"));
	CHECK(BIND("given") == NULL && has_str(AQ_STRING1, 0, "given"));
	CHECK(parse("s1=p1&s2=p2&#=second") == NULL);
	CHECK(BIND("first") == NULL && has_str(AQ_STRING1, 0, "first") &&
	      has_str(AQ_STRING2, 0, "second"));
	/* A template without pN ignores arguments. */
	CHECK(parse("s1=fixed") == NULL);
	CHECK(nq_bind(A, &T, NULL, 0, &Q, NULL) == NULL && has_str(AQ_STRING1, 0, "fixed"));
	CHECK(BIND("extra", "more") == NULL && Q.v[AQ_STRING1].n == 1);
	/* An argument keeps its '/' (decoded %2F) and anything else, bound as is. */
	CHECK(parse("manifest=p1") == NULL);
	CHECK(BIND("https://x/y';--") == NULL && has_str(AQ_MANIFESTS, 0, "https://x/y';--"));
	/* Comma lists, literal or argument. */
	CHECK(parse("batch=p1&manifest=m1,m2") == NULL);
	CHECK(BIND("5,6,7") == NULL && Q.v[AQ_BATCH].n == 3 && Q.v[AQ_BATCH].i[2] == 7);
	CHECK(Q.v[AQ_MANIFESTS].n == 2 && has_str(AQ_MANIFESTS, 1, "m2"));
	CHECK(BIND("5,x") != NULL);
	CHECK(BIND("0") != NULL);
	/* spacename gives way to space. */
	CHECK(parse("spacename=p1&space=p2") == NULL);
	CHECK(BIND("books") == NULL && has_str(AQ_SPACENAME, 0, "books") && Q.v[AQ_SPACE].n == 0);
	CHECK(BIND("books", "4") == NULL && Q.v[AQ_SPACENAME].n == 0 && Q.v[AQ_SPACE].i[0] == 4);
	CHECK(BIND("books", "0") != NULL);
	/* The texts of the projections. */
	CHECK(parse("s1=p1&objectname=p2&redactedmessage=Gone") == NULL);
	const char *texts[NQT__MAX];
	const char *const args[] = {"b18", "b18.pdf"};
	CHECK(nq_bind(A, &T, args, 2, &Q, texts) == NULL);
	CHECK(strcmp(texts[NQT_OBJECTNAME], "b18.pdf") == 0 && texts[NQT_COVERPAGE] == NULL &&
	      strcmp(texts[NQT_REDACTEDMESSAGE], "Gone") == 0);
	CHECK(nq_bind(A, &T, args, 1, &Q, texts) == NULL && texts[NQT_OBJECTNAME] == NULL);
	/* {s1}..{n3}: the filters' bound values, "" for none; other braces stay */
	CHECK(parse("s1=p1&n2=p2&s3=lit&objectname={s1}-{n2}-{s3}-{n1}{x}.pdf"
		    "&coverpage=https://e.org/{s1}/c.pdf&redactedmessage={s1") == NULL);
	const char *args2[] = {"book-7", "12"};
	CHECK(nq_bind(A, &T, args2, 2, &Q, texts) == NULL);
	CHECK_STR(texts[NQT_OBJECTNAME], "book-7-12-lit-{x}.pdf");
	CHECK_STR(texts[NQT_COVERPAGE], "https://e.org/book-7/c.pdf");
	CHECK_STR(texts[NQT_REDACTEDMESSAGE], "{s1");
	CHECK(nq_bind(A, &T, args2, 1, &Q, texts) == NULL);
	CHECK_STR(texts[NQT_OBJECTNAME], "book-7--lit-{x}.pdf");
	/* in the coverpage URL a value cannot reach the host, path or query */
	const char *evil[] = {"evil.example/x?u=https://e.org/ \r\n%2F..", "1"};
	CHECK(nq_bind(A, &T, evil, 2, &Q, texts) == NULL);
	CHECK_STR(texts[NQT_COVERPAGE],
		  "https://e.org/evil.example%2Fx%3Fu%3Dhttps%3A%2F%2Fe.org%2F%20%0D%0A%252F../"
		  "c.pdf");
	CHECK(strstr(texts[NQT_OBJECTNAME], "evil.example/x?u=") != NULL);
	CHECK(parse("s1=p1&objectname={s1}") == NULL);
	const char *args3[] = {"x"};
	CHECK(nq_bind(A, &T, args3, 1, &Q, texts) == NULL &&
	      strcmp(texts[NQT_OBJECTNAME], "x") == 0);
}

static void test_sql(void)
{
	const char *where, *order;
	struct db_param *p;
	size_t n;
	CHECK(parse("assetOrder=n2 desc;n1;s3&space=p1&s3=p2&batch=9") == NULL);
	CHECK(BIND("43", "vol-1") == NULL);
	asset_query_sql(&Q, A, 2, -1, &where, &order, &p, &n);
	CHECK(strstr(where, " AND a.space_id=?") != NULL);
	CHECK(strstr(where, "a.string3=? AND a.string3 COLLATE utf8mb4_nopad_bin=?") != NULL);
	CHECK(strstr(where, "FROM batch_assets b WHERE") != NULL);
	CHECK_STR(order, " ORDER BY a.number2 DESC, a.number1, a.string3, a.space_id, a.id");
	size_t marks = 0;
	for (const char *s = where; (s = strchr(s, '?')); s++)
		marks++;
	CHECK(marks == n && n == 5);
	CHECK(p[0].i == 2 && p[3].i == 43 && p[4].i == 9);
	CHECK(parse("spacename=p1&canvas=s1") == NULL && BIND("books") == NULL);
	asset_query_sql(&Q, A, 2, -1, &where, &order, &p, &n);
	CHECK(strstr(where, "a.space_id IN (SELECT sp.id FROM spaces sp WHERE") != NULL);
	CHECK_STR(order, " ORDER BY a.string1, a.space_id, a.id");
	CHECK(parse("s1=x") == NULL && BIND("") == NULL);
	asset_query_sql(&Q, A, 2, -1, &where, &order, &p, &n);
	CHECK_STR(order, " ORDER BY a.created, a.space_id, a.id");
}

int main(void)
{
	A = arena_new(16384);
	test_parse();
	test_refused();
	test_bind();
	test_sql();
	arena_free(A);
	return check_done();
}
