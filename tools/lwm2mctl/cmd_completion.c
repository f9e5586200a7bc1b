/*
 * completion bash: prints a bash completion script made from the command table, so it
 * always knows every command and option of this binary:
 *   source <(lwm2mctl completion bash)        # this shell
 *   lwm2mctl completion bash > /etc/bash_completion.d/lwm2mctl
 * It completes commands, subcommands and options; after an option that takes a value, or
 * in argument position, it offers file names (model set, codec set, --values, firmware
 * upload); campaigns create --delivery and campaigns devices --state offer their values.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define GLOBAL_OPTS "--url --token --project --json --no-color --help"
/* The states of a campaign's device, for campaigns devices --state. */
#define FW_STATES \
	"waiting starting downloading downloaded updating succeeded failed skipped cancelled"

/* The options of cmd as "--a --b", from its "a=,b" list. */
static void print_opts(const char *opts)
{
	for (const char *p = opts; p && *p;) {
		size_t n = strcspn(p, ",");
		size_t len = n && p[n - 1] == '=' ? n - 1 : n;
		if (len)
			printf(" --%.*s", (int)len, p);
		p += n + (p[n] == ',');
	}
}

/* The options that take a value, for skipping their values when counting words. */
static void print_value_opts(const struct ctl_command *const *groups, size_t ngroups)
{
	printf("--url|--token|--project");
	for (size_t g = 0; g < ngroups; g++)
		for (const struct ctl_command *cmd = groups[g]; cmd->group; cmd++)
			for (const char *p = cmd->opts; p && *p;) {
				size_t n = strcspn(p, ",");
				if (n > 1 && p[n - 1] == '=')
					printf("|--%.*s", (int)(n - 1), p);
				p += n + (p[n] == ',');
			}
}

static int completion(struct ctl *c, const struct ctl_args *a)
{
	if (strcmp(a->pos[0], "bash") != 0)
		return ctl_usage_error("only bash completion is made (completion bash)");
	size_t ngroups;
	const struct ctl_command *const *groups = ctl_groups(&ngroups);
	printf("# bash completion for lwm2mctl (made by `lwm2mctl completion bash`)\n"
	       "_lwm2mctl() {\n"
	       "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	       "  local words=() i w\n"
	       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "    w=${COMP_WORDS[i]}\n"
	       "    case $w in\n"
	       "      ");
	print_value_opts(groups, ngroups);
	printf(") ((i++)) ;;\n"
	       "      -*) ;;\n"
	       "      *) words+=(\"$w\") ;;\n"
	       "    esac\n"
	       "  done\n"
	       "  case $prev in\n"
	       /* the options whose values are a fixed set (docs/firmware.md) */
	       "    --delivery) COMPREPLY=($(compgen -W \"auto pull push\" -- \"$cur\")); return ;;\n"
	       "    --state) COMPREPLY=($(compgen -W \"" FW_STATES "\" -- \"$cur\")); return ;;\n"
	       "    ");
	print_value_opts(groups, ngroups);
	printf(")\n      COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
	       "  esac\n"
	       "  local opts=\"" GLOBAL_OPTS "\"\n"
	       "  case \"${words[0]} ${words[1]}\" in\n");
	for (size_t g = 0; g < ngroups; g++)
		for (const struct ctl_command *cmd = groups[g]; cmd->group; cmd++) {
			printf("    \"%s %s\"%s) opts+=\"", cmd->group, cmd->verb ? cmd->verb : "",
			       cmd->verb ? "" : "*");
			print_opts(cmd->opts);
			printf("\" ;;\n");
		}
	printf("  esac\n"
	       "  if [[ $cur == -* ]]; then\n"
	       "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return\n"
	       "  fi\n"
	       "  if ((${#words[@]} == 0)); then\n"
	       "    COMPREPLY=($(compgen -W \"help");
	for (size_t g = 0; g < ngroups; g++)
		if (groups[g][0].group)
			printf(" %s", groups[g][0].group);
	/* groups sharing a table (products and model, …) */
	for (size_t g = 0; g < ngroups; g++)
		for (const struct ctl_command *cmd = groups[g] + 1; cmd->group; cmd++)
			if (strcmp(cmd->group, cmd[-1].group) != 0)
				printf(" %s", cmd->group);
	printf("\" -- \"$cur\")); return\n"
	       "  fi\n"
	       "  if ((${#words[@]} == 1)); then\n"
	       "    case ${words[0]} in\n");
	for (size_t g = 0; g < ngroups; g++)
		for (const struct ctl_command *cmd = groups[g]; cmd->group; cmd++) {
			if (!cmd->verb || (cmd != groups[g] && strcmp(cmd->group, cmd[-1].group) == 0))
				continue;
			printf("      %s) COMPREPLY=($(compgen -W \"", cmd->group);
			for (const struct ctl_command *v = cmd; v->group && !strcmp(v->group, cmd->group);
			     v++)
				printf("%s%s", v == cmd ? "" : " ", v->verb);
			printf("\" -- \"$cur\")); return ;;\n");
		}
	printf("    esac\n"
	       "  fi\n"
	       "  COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "}\n"
	       "complete -o filenames -F _lwm2mctl lwm2mctl\n");
	return CTL_OK;
}

const struct ctl_command ctl_completion_commands[] = {
	{ "completion", NULL, completion, 1, 1, "", "bash",
	  "print the bash completion script (source <(lwm2mctl completion bash))", true },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, true },
};
