package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nomosrun/nomosrun/runners"
)

var completionCmd = &command{
	name:        "completion",
	usage:       "bash|zsh",
	short:       "print the bash or zsh completion script; bash: source <(nomosrun completion bash), zsh: save it as _nomosrun in $fpath",
	subcommands: []string{"bash", "zsh"},
}

// The completion reads the command table, which lists completionCmd.
func init() { completionCmd.flags = completionFlags }

// argKind says what a command's positional arguments are.
type argKind int

// The kinds of positional arguments.
const (
	argNone argKind = iota // no arguments, or nothing worth completing
	argStar                // scenario files (.star)
	argDir                 // a directory (a run directory)
)

func completionFlags(a *app, c *command, shell string, _ *flag.FlagSet) action {
	return func(_ context.Context, pos []string) error {
		if len(pos) != 0 {
			return usageError(fmt.Errorf("completion: unexpected argument %q; usage: nomosrun completion %s", pos[0], c.usage))
		}
		if shell == "zsh" {
			return writeZsh(a.stdout, completionTable())
		}
		return writeBash(a.stdout, completionTable())
	}
}

// completedCommand is one command as completion sees it.
type completedCommand struct {
	name, short string
	args        argKind
	subcommands []string
	flags       []completedFlag // sorted by name; the same for every subcommand
}

// completedFlag is one flag as completion sees it (aliases left out).
type completedFlag struct {
	name, usage string
	short       string // "v" for --verbose
	boolean     bool
	repeatable  bool
	value       string // placeholder from the usage: DIR, FILE, string, ...
}

// completionTable reads the commands and their flags from the command
// table and the flag sets the commands declare, as help does.
func completionTable() []completedCommand {
	var out []completedCommand
	for _, c := range commands {
		if c.hidden {
			continue
		}
		cc := completedCommand{name: c.name, short: c.short, args: c.args, subcommands: c.subcommands}
		seen := map[string]bool{}
		for _, fs := range flagsOf(c) {
			for _, f := range completedFlags(fs) {
				if !seen[f.name] {
					seen[f.name] = true
					cc.flags = append(cc.flags, f)
				}
			}
		}
		sort.Slice(cc.flags, func(i, j int) bool { return cc.flags[i].name < cc.flags[j].name })
		out = append(out, cc)
	}
	return out
}

// globalFlags are the flags accepted before the command.
func globalFlags() []completedFlag {
	fs := flag.NewFlagSet("nomosrun", flag.ContinueOnError)
	(&app{}).verboseFlags(fs)
	return completedFlags(fs)
}

func completedFlags(fs *flag.FlagSet) []completedFlag {
	var out []completedFlag
	shorts := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if a, ok := f.Value.(*aliasValue); ok && !a.deprecated {
			shorts[a.target] = f.Name
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if isAlias(f) {
			return
		}
		value, usage := flag.UnquoteUsage(f)
		b, _ := f.Value.(interface{ IsBoolFlag() bool })
		out = append(out, completedFlag{name: f.Name, usage: usage, short: shorts[f.Name],
			boolean: b != nil && b.IsBoolFlag(), repeatable: strings.Contains(usage, "repeatable"), value: value})
	})
	return out
}

// valueKind is what a flag's value is: runner names, a directory, a file,
// or anything (not completed).
func (f completedFlag) valueKind() string {
	switch {
	case f.boolean:
		return ""
	case f.name == "runner":
		return "runner"
	case f.value == "DIR" || strings.HasSuffix(f.name, "-dir"):
		return "dir"
	case f.value == "FILE":
		return "file"
	}
	return "any"
}

// spellings are the ways a flag is written: --name, and -x for a short form.
func (f completedFlag) spellings() []string {
	s := []string{dashes(f.name)}
	if f.short != "" {
		s = append(s, dashes(f.short))
	}
	return s
}

func writeBash(w io.Writer, table []completedCommand) error {
	var b strings.Builder
	names := func(cmds []completedCommand) string {
		var s []string
		for _, c := range cmds {
			s = append(s, c.name)
		}
		return strings.Join(s, " ")
	}
	spell := func(flags []completedFlag, kind func(completedFlag) bool) string {
		var s []string
		for _, f := range flags {
			if kind(f) {
				s = append(s, f.spellings()...)
			}
		}
		return strings.Join(s, " ")
	}
	all := func(completedFlag) bool { return true }
	ofKind := func(k string) func(completedFlag) bool {
		return func(f completedFlag) bool { return f.valueKind() == k }
	}
	global := globalFlags()
	fmt.Fprintf(&b, `# bash completion for nomosrun, printed by 'nomosrun completion bash'.
# Load it with: source <(nomosrun completion bash)

_nomosrun() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd="" sub="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ -z $sub ]]; then sub=${COMP_WORDS[i]}; fi ;;
        esac
    done
    [[ $cmd == *.star ]] && cmd=run
    local flags="%s" runner="" dir="" file="" any="" subs="" args=none
    case $cmd in
`, spell(global, all))
	for _, c := range table {
		args := map[argKind]string{argNone: "none", argStar: "star", argDir: "dir"}[c.args]
		fmt.Fprintf(&b, "        %s)\n            flags=\"%s\"\n            runner=\"%s\" dir=\"%s\" file=\"%s\" any=\"%s\"\n            subs=\"%s\" args=%s ;;\n",
			c.name, spell(c.flags, all), spell(c.flags, ofKind("runner")), spell(c.flags, ofKind("dir")),
			spell(c.flags, ofKind("file")), spell(c.flags, ofKind("any")), strings.Join(c.subcommands, " "), args)
	}
	fmt.Fprintf(&b, `    esac
    if [[ " $runner " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -W "%s" -- "$cur")); return
    elif [[ " $dir " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -d -- "$cur")); return
    elif [[ " $file " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); return
    elif [[ " $any " == *" $prev "* ]]; then
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur")); return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "%s" -- "$cur") $(compgen -f -X '!*.star' -- "$cur") $(compgen -d -- "$cur")); return
    fi
    if [[ -n $subs && -z $sub ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur")); return
    fi
    case $args in
        star) COMPREPLY=($(compgen -f -X '!*.star' -- "$cur") $(compgen -d -- "$cur")) ;;
        dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    esac
}
complete -o filenames -F _nomosrun nomosrun
`, strings.Join(runners.Names(), " "), names(table))
	_, err := io.WriteString(w, b.String())
	return err
}

// firstClause is s up to its first ';' or '(': enough for a menu.
func firstClause(s string) string {
	if i := strings.IndexAny(s, ";("); i > 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// zshQuote quotes s for a single-quoted zsh word inside an _arguments
// spec: brackets and colons are escaped for _arguments, quotes for zsh.
func zshQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
	return strings.ReplaceAll(s, "'", `'\''`)
}

// zshSpec is the _arguments spec of one flag.
func zshSpec(f completedFlag) string {
	action := map[string]string{
		"runner": "runner:(" + strings.Join(runners.Names(), " ") + ")",
		"dir":    "directory:_files -/",
		"file":   "file:_files",
		"any":    strings.ToLower(f.value) + ": ",
	}[f.valueKind()]
	desc := "[" + zshQuote(firstClause(f.usage)) + "]"
	var specs []string
	for _, sp := range f.spellings() {
		spec := sp
		if !f.boolean {
			spec += "="
		}
		if f.repeatable {
			spec = "*" + spec
		}
		spec += desc
		if action != "" {
			spec += ":" + action
		}
		specs = append(specs, "'"+spec+"'")
	}
	return strings.Join(specs, " ")
}

func writeZsh(w io.Writer, table []completedCommand) error {
	var b strings.Builder
	fmt.Fprint(&b, `#compdef nomosrun
# zsh completion for nomosrun, printed by 'nomosrun completion zsh'.
# Save it as _nomosrun in a directory of $fpath, or: source <(nomosrun completion zsh)

_nomosrun() {
    local curcontext=$curcontext state line
    local -a commands
    commands=(
`)
	for _, c := range table {
		fmt.Fprintf(&b, "        '%s:%s'\n", c.name, strings.ReplaceAll(firstClause(c.short), "'", `'\''`))
	}
	fmt.Fprint(&b, "    )\n    _arguments -C")
	for _, f := range globalFlags() {
		fmt.Fprintf(&b, " %s", zshSpec(f))
	}
	fmt.Fprint(&b, ` '1: :->command' '*:: :->args'
    case $state in
        command)
            _describe -t commands 'nomosrun command' commands
            _files -g '*.star'
            ;;
        args)
            local cmd=$line[1]
            [[ $cmd == *.star ]] && cmd=run
            case $cmd in
`)
	for _, c := range table {
		fmt.Fprintf(&b, "                %s)\n                    _arguments", c.name)
		for _, f := range c.flags {
			fmt.Fprintf(&b, " \\\n                        %s", zshSpec(f))
		}
		switch {
		case len(c.subcommands) > 0:
			fmt.Fprintf(&b, " \\\n                        '1:%s:(%s)'", c.name, strings.Join(c.subcommands, " "))
		case c.args == argStar:
			fmt.Fprint(&b, ` \`+"\n"+`                        '*:scenario:_files -g "*.star"'`)
		case c.args == argDir:
			fmt.Fprint(&b, ` \`+"\n"+`                        '1:run directory:_files -/'`)
		}
		fmt.Fprint(&b, "\n                    ;;\n")
	}
	fmt.Fprint(&b, `            esac
            ;;
    esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _nomosrun "$@"
else
    compdef _nomosrun nomosrun
fi
`)
	_, err := io.WriteString(w, b.String())
	return err
}
