/*
 * lwm2mctl: the command line. Global options (--url, --token, --project, --json,
 * --no-color, --help) may come anywhere; the first one or two words name the command
 * (devices list, read, …), its own options follow in any order among its arguments.
 * The daemon's URL and token come from the options, else LWM2MD_URL / LWM2MD_TOKEN, else
 * the config file (~/.config/lwm2mctl/config: url=, token=, project=).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const struct ctl_command *const groups[] = {
	ctl_devices_commands,  ctl_products_commands, ctl_codec_commands,
	ctl_dm_commands,       ctl_commands_commands, ctl_events_commands,
	ctl_rules_commands,    ctl_firmware_commands, ctl_completion_commands,
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

const struct ctl_command *const *ctl_groups(size_t *n)
{
	*n = NGROUPS;
	return groups;
}

const char *ctl_opt(const struct ctl_args *a, const char *name)
{
	for (int i = a->nopt - 1; i >= 0; i--)
		if (strcmp(a->opt_name[i], name) == 0)
			return a->opt_value[i];
	return NULL;
}

bool ctl_flag(const struct ctl_args *a, const char *name)
{
	return ctl_opt(a, name) != NULL;
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("lwm2mctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see --help)\n", stderr);
	va_end(ap);
	return CTL_USAGE;
}

bool ctl_opt_int(const struct ctl_args *a, const char *name, long min, long max, long def,
		 long *out)
{
	const char *v = ctl_opt(a, name);
	*out = def;
	if (!v)
		return true;
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		ctl_usage_error("--%s must be a number from %ld to %ld", name, min, max);
		return false;
	}
	*out = n;
	return true;
}

/* Every command's own options, "name" or "name=" ("=": it takes a value). Returns 1 for
 * a flag, 2 for an option with a value, 0 when cmd has no such option. */
static int opt_kind(const char *opts, const char *name, size_t len)
{
	const char *p = opts;
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool value = n > 0 && p[n - 1] == '=';
		if (n - value == len && strncmp(p, name, len) == 0)
			return value ? 2 : 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static void command_usage(FILE *out, const struct ctl_command *cmd)
{
	fprintf(out, "usage: lwm2mctl %s%s%s %s\n  %s\n", cmd->group, cmd->verb ? " " : "",
		cmd->verb ? cmd->verb : "", cmd->usage, cmd->help);
}

static void help(FILE *out, const char *group)
{
	if (!group)
		fputs("lwm2mctl: the command-line client of lwm2md's REST API (docs/cli.md)\n\n"
		      "usage: lwm2mctl [--url URL] [--token TOKEN] [--project P] [--json] "
		      "COMMAND ...\n\ncommands:\n",
		      out);
	for (size_t g = 0; g < NGROUPS; g++)
		for (const struct ctl_command *cmd = groups[g]; cmd->group; cmd++)
			if (!group || strcmp(group, cmd->group) == 0)
				fprintf(out, "  %s%s%-*s %s\n", cmd->group, cmd->verb ? " " : "",
					(int)(22 - strlen(cmd->group) - (cmd->verb ? 1 : 0)),
					cmd->verb ? cmd->verb : "", cmd->help);
	if (!group)
		fputs("\nglobal options:\n"
		      "  --url URL        the daemon (LWM2MD_URL, config url=; default "
		      "http://127.0.0.1:8080)\n"
		      "  --token TOKEN    an API token (LWM2MD_TOKEN, config token=)\n"
		      "  --project P      the project (default: the token's, from GET /v5/token)\n"
		      "  --json           print the API's JSON as it is, for scripts\n"
		      "  --no-color       no colours, even on a terminal\n"
		      "  --help           this help; after a command, the command's\n\n"
		      "exit codes: 0 ok, 1 the API answered an error, 2 usage, 3 the device did "
		      "not answer,\n            4 the daemon could not be reached\n"
		      "config: ~/.config/lwm2mctl/config (url=, token=, project=)\n",
		      out);
}

static const struct ctl_command *find(const char *group, const char *verb, bool *group_known)
{
	*group_known = false;
	for (size_t g = 0; g < NGROUPS; g++)
		for (const struct ctl_command *cmd = groups[g]; cmd->group; cmd++) {
			if (strcmp(cmd->group, group) != 0)
				continue;
			*group_known = true;
			if (!cmd->verb || (verb && strcmp(cmd->verb, verb) == 0))
				return cmd;
		}
	return NULL;
}

/* The config file: url=, token=, project= lines; # comments. Fills what is still empty. */
static void read_config(struct ctl *c)
{
	char path[1024];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(path, sizeof(path), "%s/lwm2mctl/config", xdg);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.config/lwm2mctl/config", home);
	else
		return;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		const char *v = eq + 1;
		if (strcmp(line, "url") == 0 && !c->url[0])
			snprintf(c->url, sizeof(c->url), "%s", v);
		else if (strcmp(line, "token") == 0 && !c->token[0])
			snprintf(c->token, sizeof(c->token), "%s", v);
		else if (strcmp(line, "project") == 0 && !c->project[0] && *v)
			snprintf(c->project, sizeof(c->project), "%s", v);
	}
	fclose(f);
}

static bool global_opt(struct ctl *c, const char *name, const char *value, bool *help_wanted,
		       bool *takes_value)
{
	*takes_value = false;
	if (strcmp(name, "json") == 0)
		c->json = true;
	else if (strcmp(name, "no-color") == 0)
		c->color = false;
	else if (strcmp(name, "help") == 0)
		*help_wanted = true;
	else if (strcmp(name, "url") == 0 || strcmp(name, "token") == 0 ||
		 strcmp(name, "project") == 0) {
		*takes_value = true;
		if (!value)
			return true;
		if (name[0] == 'u')
			snprintf(c->url, sizeof(c->url), "%s", value);
		else if (name[0] == 't')
			snprintf(c->token, sizeof(c->token), "%s", value);
		else
			snprintf(c->project, sizeof(c->project), "%s", value);
	} else
		return false;
	return true;
}

/* What the command line left open: the environment, then the config file, then the
 * default URL. A project from the config file spares the token lookup, as --project does. */
static void settle(struct ctl *c)
{
	const char *url = getenv("LWM2MD_URL"), *token = getenv("LWM2MD_TOKEN");
	if (!c->url[0] && url && *url)
		snprintf(c->url, sizeof(c->url), "%s", url);
	if (!c->token[0] && token && *token)
		snprintf(c->token, sizeof(c->token), "%s", token);
	read_config(c);
	if (!c->url[0])
		snprintf(c->url, sizeof(c->url), "http://127.0.0.1:8080");
	size_t n = strlen(c->url);
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
}

static int run(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a = { .npos = 0 };
	const char *words[2] = { NULL, NULL };
	int nwords = 0;
	const struct ctl_command *cmd = NULL;
	bool help_wanted = false, group_known = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "-h") == 0)
			arg = "--help";
		if (strncmp(arg, "--", 2) == 0 && arg[2]) {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			char gname[32];
			snprintf(gname, sizeof(gname), "%.*s", (int)(len < 31 ? len : 31), name);
			bool takes;
			const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
			if (global_opt(c, gname, value, &help_wanted, &takes)) {
				if (takes && !value)
					return ctl_usage_error("--%s needs a value", gname);
				if (takes && !eq)
					i++;
				continue;
			}
			int kind = cmd ? opt_kind(cmd->opts, name, len) : 0;
			if (kind == 0)
				return ctl_usage_error("unknown option --%.*s%s%s", (int)len, name,
						       cmd ? " for " : "", cmd ? cmd->group : "");
			if (a.nopt == CTL_MAX_ARGS)
				return ctl_usage_error("too many options");
			if (kind == 1 && eq)
				return ctl_usage_error("--%.*s takes no value", (int)len, name);
			if (kind == 2 && !value)
				return ctl_usage_error("--%.*s needs a value", (int)len, name);
			snprintf(a.opt_name[a.nopt], sizeof(a.opt_name[0]), "%.*s", (int)len, name);
			a.opt_value[a.nopt++] = kind == 2 ? value : "";
			if (kind == 2 && !eq)
				i++;
			continue;
		}
		if (!cmd) {
			words[nwords++] = arg;
			if (strcmp(words[0], "help") == 0) {
				help_wanted = true;
				nwords = 0;
				continue;
			}
			cmd = find(words[0], nwords > 1 ? words[1] : NULL, &group_known);
			if (!group_known)
				return ctl_usage_error("unknown command %s", words[0]);
			if (!cmd && nwords == 2)
				return ctl_usage_error("unknown command %s %s", words[0], words[1]);
			continue;
		}
		if (a.npos == CTL_MAX_ARGS)
			return ctl_usage_error("too many arguments");
		a.pos[a.npos++] = arg;
	}
	if (help_wanted) {
		if (cmd)
			command_usage(stdout, cmd);
		else
			help(stdout, nwords ? words[0] : NULL);
		return CTL_OK;
	}
	if (!cmd) {
		if (nwords == 1) {
			fprintf(stderr, "lwm2mctl: %s needs a subcommand:\n", words[0]);
			help(stderr, words[0]);
			return CTL_USAGE;
		}
		help(stderr, NULL);
		return CTL_USAGE;
	}
	if (a.npos < cmd->min_pos || a.npos > cmd->max_pos) {
		fprintf(stderr, "lwm2mctl: %s arguments\n", a.npos < cmd->min_pos ? "missing" : "too many");
		command_usage(stderr, cmd);
		return CTL_USAGE;
	}
	settle(c);
	int rc;
	if (!cmd->local && !c->token[0]) {
		rc = ctl_usage_error("no token: give --token, set LWM2MD_TOKEN or token= in "
				     "~/.config/lwm2mctl/config");
	} else {
		rc = cmd->run(c, &a);
	}
	return rc;
}

int main(int argc, char **argv)
{
	static struct ctl c;
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
	c.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
		  !(term && strcmp(term, "dumb") == 0);
	int rc = run(&c, argc, argv);
	ctl_http_cleanup(&c);
	return rc;
}
