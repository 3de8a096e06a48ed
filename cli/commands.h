/* commands.h - prototypes of the command entry points listed in commands.def. */
#ifndef KB_COMMANDS_H
#define KB_COMMANDS_H

#define KB_VERSION_STRING "0.1.0"

#define KB_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef KB_COMMAND

#endif
