# fish completion for runnel(1): the verbs, each verb's options and their values, and the job
# names of the pipeline of the current directory (for run, explain, shell, log and --manual).
# Verbs and options are read from `runnel help` and `runnel VERB --help`, so they never drift
# from the binary; job names from `runnel list --json` (parsed here: jq may not be installed).

function __runnel_verbs
    runnel help 2>/dev/null | string match -r '^  ([a-z]+) +(.*)$' | while read -l all
        read -l name
        read -l desc
        printf '%s\t%s\n' $name $desc
    end
end

# The options of the verb on the command line: "--name<TAB>help" (and "-x<TAB>help").
function __runnel_options
    set -l tokens (commandline -opc)
    set -q tokens[2]; or return
    runnel $tokens[2] --help 2>/dev/null | string match -r '^ +-.*' | while read -l line
        set -l words (string split -n ' ' -- (string trim -- $line))
        set -l names
        set -l i 1
        while set -q words[$i]; and string match -q -- '-*' $words[$i]
            set -a names (string trim -r -c , -- $words[$i])
            set i (math $i + 1)
        end
        if set -q words[$i]; and string match -qr '^[A-Z][A-Z0-9_:=.|\[\]-]*$' -- $words[$i]
            set i (math $i + 1)
        end
        for n in $names
            printf '%s\t%s\n' $n "$words[$i..-1]"
        end
    end
end

# The job names of the pipeline, honouring -C/-f typed before.
function __runnel_jobs
    set -l tokens (commandline -opc)
    set -l ctx
    for i in (seq 3 (count $tokens))
        switch $tokens[$i]
            case -C --cwd -f --file
                set -a ctx $tokens[$i] $tokens[(math $i + 1)]
        end
    end
    runnel list --json $ctx 2>/dev/null | string match -r '^    "name": "(.*)",?$' | while read -l all
        read -l name
        string replace -a '\\"' '"' -- $name | string replace -a '\\\\' '\\'
    end
end

function __runnel_prev_is
    set -l tokens (commandline -opc)
    contains -- $tokens[-1] $argv
end

function __runnel_verb_is
    set -l tokens (commandline -opc)
    set -q tokens[2]; and contains -- $tokens[2] $argv
end

complete -c runnel -f
complete -c runnel -n '__fish_is_nth_token 1' -a '(__runnel_verbs)'
complete -c runnel -n '__fish_is_nth_token 1' -a '--help --version'
complete -c runnel -n 'not __fish_is_nth_token 1; and string match -q -- "-*" (commandline -ct)' -a '(__runnel_options)'
complete -c runnel -n '__runnel_verb_is run explain shell log; and not __runnel_prev_is --executor --format --pull-policy --source -C --cwd -f --file -r --run; and not string match -q -- "-*" (commandline -ct)' -a '(__runnel_jobs)'
complete -c runnel -n '__runnel_prev_is --manual' -a '(__runnel_jobs)'
complete -c runnel -n '__runnel_prev_is --executor' -a 'docker shell'
complete -c runnel -n '__runnel_prev_is --format' -a 'mermaid dot'
complete -c runnel -n '__runnel_prev_is --pull-policy' -a 'always if-not-present never'
complete -c runnel -n '__runnel_prev_is --source' -a 'push web trigger schedule api external pipeline chat webide merge_request_event external_pull_request_event parent_pipeline'
complete -c runnel -n '__runnel_prev_is -C --cwd' -a '(__fish_complete_directories)'
complete -c runnel -n '__runnel_prev_is -f --file --report --variables-file' -F
complete -c runnel -n '__runnel_verb_is cache; and __fish_is_nth_token 2' -a clear
complete -c runnel -n '__runnel_verb_is registry; and __fish_is_nth_token 2' -a ls
