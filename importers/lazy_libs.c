/*
 * lazy_libs.c - libcurl and GMime (with GLib) loaded on first use instead
 * of at start-up.  Only `kb import` from a server (http.c) and from mail
 * (mail.c) call them, yet linked normally they and their dependencies (35
 * shared objects) were mapped and relocated by every kb process: 7 of the
 * 11 ms of CPU a program linked like kb spent before main(), most of a
 * whole `kb search` (docs/bench.md).
 *
 * Each function http.c and mail.c call is defined here with its header's
 * prototype (the compiler checks they agree) and forwards to the library's
 * own, looked up with dlsym() on the first call.  The libraries are not on
 * the link line (Makefile, LAZY_PKGS), so a call to a function missing from
 * the lists below fails at link time with "undefined reference": add it.
 * GLib's functions are looked up through GMime's handle (its dependencies).
 * A library that cannot be loaded ends the process with status 127 and a
 * message, as the dynamic loader does at start-up; they are installed with
 * kb (scripts/install-deps.sh).  Not thread-safe on the first call: the
 * importers call these from one thread.
 */
#define CURL_DISABLE_TYPECHECK 1    /* curl_easy_setopt as a function, not a macro */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <curl/curl.h>
#include <gmime/gmime.h>

typedef struct {
	const char *soname;
	void *handle;
} lazy_lib;

static lazy_lib curl_lib = { "libcurl.so.4", NULL };
static lazy_lib gmime_lib = { "libgmime-3.0.so.0", NULL };

static void *lazy_sym(lazy_lib *lib, const char *name)
{
	void *p = NULL;

	if (!lib->handle)
		lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (lib->handle)
		p = dlsym(lib->handle, name);
	if (!p) {
		fprintf(stderr, "kb: cannot load '%s' from %s: %s\n", name, lib->soname, dlerror());
		fflush(stderr);
		_exit(127);
	}
	return p;
}

/* A function returning `ret`, and one returning nothing. */
#define FORWARD(lib, ret, name, params, args) \
	ret(name) params \
	{ \
		static __typeof__(name) *fn; \
		if (!fn) \
			*(void **)&fn = lazy_sym(&lib, #name); \
		return fn args; \
	}
#define FORWARD_VOID(lib, name, params, args) \
	void(name) params \
	{ \
		static __typeof__(name) *fn; \
		if (!fn) \
			*(void **)&fn = lazy_sym(&lib, #name); \
		fn args; \
	}

/* ---- libcurl (http.c) ---------------------------------------------------- */

#define CURL_FN(ret, name, params, args) FORWARD(curl_lib, ret, name, params, args)
#define CURL_VOID(name, params, args) FORWARD_VOID(curl_lib, name, params, args)

CURL_FN(CURLcode, curl_global_init, (long flags), (flags))
CURL_FN(CURL *, curl_easy_init, (void), ())
CURL_VOID(curl_easy_cleanup, (CURL *curl), (curl))
CURL_FN(CURLcode, curl_easy_perform, (CURL *curl), (curl))
CURL_FN(const char *, curl_easy_strerror, (CURLcode code), (code))
CURL_FN(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data),
	(list, data))
CURL_VOID(curl_slist_free_all, (struct curl_slist *list), (list))

/* The value's type follows from the option's number (curl.h, CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	va_list ap;
	CURLcode rc;

	if (!fn)
		*(void **)&fn = lazy_sym(&curl_lib, "curl_easy_setopt");
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = fn(curl, option, va_arg(ap, long));
	else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
		rc = fn(curl, option, va_arg(ap, curl_off_t));
	else    /* object, function and blob pointers */
		rc = fn(curl, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	va_list ap;
	CURLcode rc;

	if (!fn)
		*(void **)&fn = lazy_sym(&curl_lib, "curl_easy_getinfo");
	va_start(ap, info);
	rc = fn(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* ---- GMime and GLib (mail.c) --------------------------------------------- */

#define GM_FN(ret, name, params, args) FORWARD(gmime_lib, ret, name, params, args)
#define GM_VOID(name, params, args) FORWARD_VOID(gmime_lib, name, params, args)

GM_VOID(g_mime_init, (void), ())
GM_FN(gboolean, g_mime_content_type_is_type,
      (GMimeContentType *content_type, const char *type, const char *subtype),
      (content_type, type, subtype))
GM_FN(GDateTime *, g_mime_message_get_date, (GMimeMessage *m), (m))
GM_FN(InternetAddressList *, g_mime_message_get_from, (GMimeMessage *m), (m))
GM_FN(const char *, g_mime_message_get_message_id, (GMimeMessage *m), (m))
GM_FN(GMimeObject *, g_mime_message_get_mime_part, (GMimeMessage *m), (m))
GM_FN(const char *, g_mime_message_get_subject, (GMimeMessage *m), (m))
GM_FN(int, g_mime_multipart_get_count, (GMimeMultipart *mp), (mp))
GM_FN(GMimeObject *, g_mime_multipart_get_part, (GMimeMultipart *mp, int index), (mp, index))
GM_FN(GType, g_mime_multipart_get_type, (void), ())
GM_FN(GMimeContentType *, g_mime_object_get_content_type, (GMimeObject *o), (o))
GM_FN(const char *, g_mime_object_get_header, (GMimeObject *o, const char *header), (o, header))
GM_FN(GType, g_mime_object_get_type, (void), ())
GM_FN(GMimeMessage *, g_mime_parser_construct_message,
      (GMimeParser *parser, GMimeParserOptions *options), (parser, options))
GM_FN(gboolean, g_mime_parser_eos, (GMimeParser *parser), (parser))
GM_FN(gint64, g_mime_parser_get_mbox_marker_offset, (GMimeParser *parser), (parser))
GM_FN(GMimeParser *, g_mime_parser_new_with_stream, (GMimeStream *stream), (stream))
GM_VOID(g_mime_parser_options_free, (GMimeParserOptions *options), (options))
GM_FN(GMimeParserOptions *, g_mime_parser_options_new, (void), ())
GM_VOID(g_mime_parser_options_set_warning_callback,
	(GMimeParserOptions *options, GMimeParserWarningFunc warning_cb, gpointer user_data),
	(options, warning_cb, user_data))
GM_VOID(g_mime_parser_set_format, (GMimeParser *parser, GMimeFormat format), (parser, format))
GM_VOID(g_mime_references_free, (GMimeReferences *refs), (refs))
GM_FN(const char *, g_mime_references_get_message_id, (GMimeReferences *refs, int index),
      (refs, index))
GM_FN(int, g_mime_references_length, (GMimeReferences *refs), (refs))
GM_FN(GMimeReferences *, g_mime_references_parse, (GMimeParserOptions *options, const char *text),
      (options, text))
GM_FN(GMimeStream *, g_mime_stream_fs_open, (const char *path, int flags, int mode, GError **err),
      (path, flags, mode, err))
GM_FN(GMimeStream *, g_mime_stream_substream, (GMimeStream *stream, gint64 start, gint64 end),
      (stream, start, end))
GM_FN(char *, g_mime_text_part_get_text, (GMimeTextPart *part), (part))
GM_FN(GType, g_mime_text_part_get_type, (void), ())
GM_FN(int, internet_address_list_length, (InternetAddressList *list), (list))
GM_FN(char *, internet_address_list_to_string,
      (InternetAddressList *list, GMimeFormatOptions *options, gboolean encode),
      (list, options, encode))

GM_FN(gchar *, g_ascii_strdown, (const gchar *str, gssize len), (str, len))
GM_FN(gint, g_ascii_strncasecmp, (const gchar *s1, const gchar *s2, gsize n), (s1, s2, n))
GM_FN(gchar *, g_date_time_format, (GDateTime *datetime, const gchar *format), (datetime, format))
GM_FN(gint64, g_date_time_to_unix, (GDateTime *datetime), (datetime))
GM_VOID(g_free, (gpointer mem), (mem))
GM_FN(gchar *, g_strdup, (const gchar *str), (str))
GM_FN(gboolean, g_str_equal, (gconstpointer v1, gconstpointer v2), (v1, v2))
GM_FN(guint, g_str_hash, (gconstpointer v), (v))
GM_FN(GHashTable *, g_hash_table_new, (GHashFunc hash_func, GEqualFunc key_equal_func),
      (hash_func, key_equal_func))
GM_VOID(g_hash_table_destroy, (GHashTable *hash_table), (hash_table))
GM_FN(gboolean, g_hash_table_contains, (GHashTable *hash_table, gconstpointer key),
      (hash_table, key))
GM_FN(gboolean, g_hash_table_insert, (GHashTable *hash_table, gpointer key, gpointer value),
      (hash_table, key, value))
GM_FN(gpointer, g_hash_table_lookup, (GHashTable *hash_table, gconstpointer key), (hash_table, key))
GM_FN(gboolean, g_hash_table_lookup_extended,
      (GHashTable *hash_table, gconstpointer lookup_key, gpointer *orig_key, gpointer *value),
      (hash_table, lookup_key, orig_key, value))
GM_FN(gpointer, g_once_impl, (GOnce *once, GThreadFunc func, gpointer arg), (once, func, arg))
GM_VOID(g_object_unref, (gpointer object), (object))
GM_FN(GTypeInstance *, g_type_check_instance_cast, (GTypeInstance *instance, GType iface_type),
      (instance, iface_type))
GM_FN(gboolean, g_type_check_instance_is_a, (GTypeInstance *instance, GType iface_type),
      (instance, iface_type))
