/* rules_cmd.h - "tlswitness rules check FILE..." and "tlswitness rules
 * show" (README "Rule language"). */
#ifndef TW_RULES_CMD_H
#define TW_RULES_CMD_H

/* argv: what follows "rules".  Returns the exit status: 0, 2 (usage), or
 * 3 when a rule file has errors. */
int rules_command(int argc, char **argv);

#endif
