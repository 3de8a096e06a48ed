/*
 * starter.h - private: starter files embedded by starter_data.S (kb.conf,
 * case template, synonyms, abbreviations), NUL-terminated.
 */
#ifndef KB_STARTER_H
#define KB_STARTER_H

extern const char kb_starter_conf[];
extern const char kb_starter_template[];
extern const char kb_starter_synonyms[];
extern const char kb_starter_abbreviations[];

#endif
