/* load_cmd.h - "tlswitness load --db CONNINFO [-q] FILE..." (README "The
 * evidence store"). */
#ifndef TW_LOAD_CMD_H
#define TW_LOAD_CMD_H

/* argv: what follows "load".  The exit status: 0 every shard stored (or
 * stored before), 2 usage, the database, or a shard refused. */
int load_command(int argc, char **argv);

#endif
