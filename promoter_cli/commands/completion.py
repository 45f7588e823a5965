"""Shell completion for bash, zsh and fish, read from the argparse parser itself.

``promoter completion SHELL`` prints a small script for the shell; on TAB it runs
``promoter __complete WORD...`` (the words so far, the last one being completed), and that walks
the same parser the CLI parses with, so completions never drift from the commands and options.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..context import Context

COMPLETE = "__complete"

SCRIPTS = {
    "bash": """\
# promoter completion for bash: eval "$(promoter completion bash)" (e.g. in ~/.bashrc)
_promoter_complete() {
    local IFS=$'\\n'
    COMPREPLY=($(promoter __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _promoter_complete promoter
""",
    "zsh": """\
#compdef promoter
# promoter completion for zsh: eval "$(promoter completion zsh)" after compinit (e.g. in ~/.zshrc)
_promoter() {
    local -a candidates
    candidates=("${(@f)$(promoter __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n "${candidates[1]}" ]]; then
        compadd -- "${candidates[@]}"
    else
        _files
    fi
}
compdef _promoter promoter
""",
    "fish": """\
# promoter completion for fish: promoter completion fish > ~/.config/fish/completions/promoter.fish
function __promoter_complete
    set -l words (commandline -opc)
    set -e words[1]
    promoter __complete $words (commandline -ct) 2>/dev/null
end
complete -c promoter -f -a '(__promoter_complete)'
""",
}


def register(command: Any) -> None:
    sub = command(
        "completion",
        "Print the shell completion script for bash, zsh or fish.",
        'Print a completion script. bash: eval "$(promoter completion bash)" in ~/.bashrc; zsh: eval '
        '"$(promoter completion zsh)" after compinit in ~/.zshrc; fish: promoter completion fish > '
        "~/.config/fish/completions/promoter.fish.",
    )
    sub.add_argument("shell", choices=sorted(SCRIPTS), help="the shell")
    sub.set_defaults(handler=print_script)


def print_script(ctx: Context) -> int:
    print(SCRIPTS[ctx.args.shell], end="", file=ctx.out)
    return 0


def candidates(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """What may come at the last of ``words`` (the word being typed, maybe empty)."""
    *done, current = words or [""]
    expecting: argparse.Action | None = None
    for word in done:
        if expecting is not None:  # this word is the value of the option before it
            expecting = None
            continue
        sub = _subcommands(parser).get(word)
        if sub is not None:
            parser = sub
            continue
        option = _options(parser).get(word.split("=", 1)[0])
        if option is not None and option.nargs != 0 and "=" not in word:
            expecting = option
    if expecting is not None:
        return _matching([str(c) for c in expecting.choices or []], current)
    if current.startswith("-"):
        return _matching(sorted(_options(parser)), current)
    names = [n for n in _subcommands(parser) if not n.startswith("_")]
    positionals = [a for a in parser._actions if not a.option_strings and a.choices and not _is_sub(a)]
    choices = [str(c) for a in positionals for c in a.choices or []]
    return _matching(names + choices, current)


def _is_sub(action: argparse.Action) -> bool:
    return isinstance(action, argparse._SubParsersAction)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if _is_sub(action):
            return dict(action.choices)  # type: ignore[arg-type]
    return {}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings if a.help != argparse.SUPPRESS}


def _matching(words: list[str], prefix: str) -> list[str]:
    return [w for w in dict.fromkeys(words) if w.startswith(prefix)]
