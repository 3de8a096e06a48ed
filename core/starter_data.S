/* starter_data.S - the starter files `kb init` writes, embedded from kb/ at
 * build time so the binary needs no data directory.  Each blob ends in NUL;
 * see core/starter.h. */
	.section .rodata
	.global kb_starter_conf
	.global kb_starter_template
	.global kb_starter_synonyms
	.global kb_starter_abbreviations
kb_starter_conf:
	.incbin "kb/kb.conf"
	.byte 0
kb_starter_template:
	.incbin "kb/templates/case.md"
	.byte 0
kb_starter_synonyms:
	.incbin "kb/synonyms.txt"
	.byte 0
kb_starter_abbreviations:
	.incbin "kb/abbreviations.txt"
	.byte 0
	.section .note.GNU-stack,"",@progbits
