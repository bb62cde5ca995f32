#!/bin/sh
# --local-project group/project[@ref]=DIR: project: files and components of that project read
# from DIR's working tree as it is (uncommitted edits included), never from the network (a
# real API server holding other content stands by and must get no request); --include-dir
# still wins. No engine needed.
set -u

. "$(dirname "$0")/lib-include.sh"

mkdir -p api/g/p/HEAD/ci api/g/comp/1.0.0/templates
printf 'network-job:\n  script: x\n' >api/g/p/HEAD/ci/a.yml
printf 'network-comp:\n  script: x\n' >api/g/comp/1.0.0/templates/job.yml
start_server api --root "$T/api" --api-root "$T/api" --cert "$T/srv.pem" --key "$T/srv.key"
AP=$(cat api.port)
V="--variable CI_SERVER_URL=https://127.0.0.1:$AP"

# the shared-templates checkout: a committed file, then edited and not committed
mkdir -p shared/ci shared/templates/dirform shared1/ci
printf 'include:\n  - local: ci/b.yml\nlocal-a-job:\n  script: old\n' >shared/ci/a.yml
printf 'local-b-job:\n  script: x\n' >shared/ci/b.yml
printf 'spec:\n  inputs:\n    stage:\n      default: test\n---\nlocal-comp:\n  stage: $[[ inputs.stage ]]\n  script: x\n' \
	>shared/templates/job.yml
printf 'local-dirform:\n  script: x\n' >shared/templates/dirform/template.yml
repo shared
printf 'include:\n  - local: ci/b.yml\nlocal-a-job:\n  script: edited\n' >shared/ci/a.yml
printf 'v1-job:\n  script: x\n' >shared1/ci/a.yml

mkdir -p p
inc() { # inc ENTRY-LINES: p/.gitlab-ci.yml including them
	printf 'include:\n%smain-job:\n  script: x\n' "$1" >p/.gitlab-ci.yml
}
inc "  - project: g/p
    file: /ci/a.yml
  - component: 127.0.0.1:$AP/g/comp/job@1.0.0
    inputs:
      stage: build
  - component: 127.0.0.1:$AP/g/comp/dirform@~latest
"
repo p
r p config $V --local-project "g/p=$T/shared" --local-project "g/comp=$T/shared"
check "exit 0, nothing on stderr" test $RC = 0 -a ! -s "$T/err"
check "the project file from the folder, as edited (not committed)" has "script: edited" "$T/out"
check "its local include from the same folder" has local-b-job "$T/out"
check "a component from the folder, with its input" has local-comp "$T/out"
check "the component's input" grep -q 'stage: build' "$T/out"
check "templates/NAME/template.yml from the folder" has local-dirform "$T/out"
check "the network was not asked" test ! -s api.log
check "nothing of the network's" hasnt network- "$T/out"

# a relative DIR is the caller's, also with -C
(cd "$T" && "$RUNNEL" list -C p $V --local-project g/p=shared --local-project g/comp=shared) \
	>"$T/out" 2>"$T/err"
check "a relative DIR with -C" has local-a-job "$T/out"

# @ref: only that ref; the mapping without a ref takes the others
inc '  - project: g/p
    ref: v1
    file: ci/a.yml
'
r p list $V --local-project "g/p=$T/shared" --local-project "g/p@v1=$T/shared1"
check "@ref: the mapping of that ref wins" has v1-job "$T/out"
inc '  - project: g/p
    ref: v2
    file: ci/a.yml
'
r p list $V --local-project "g/p@v1=$T/shared1" --local-project "g/p=$T/shared"
check "@ref: another ref takes the mapping without one" has local-a-job "$T/out"
r p list $V --local-project "g/p@v1=$T/shared1"
check "@ref: another ref goes to the network (which has no v2)" \
	has "Project \`g/p\` reference \`v2\` does not exist! (HTTP 404 from 127.0.0.1)" "$T/err"

# --include-dir wins over --local-project
mkdir -p inc/project/g/p/HEAD/ci
printf 'include-dir-job:\n  script: x\n' >inc/project/g/p/HEAD/ci/a.yml
inc '  - project: g/p
    file: ci/a.yml
'
r p list $V --include-dir "$T/inc" --local-project "g/p=$T/shared"
check "--include-dir wins" has include-dir-job "$T/out"

# errors
inc '  - project: g/p
    file: nope.yml
'
r p list $V --local-project "g/p=$T/shared"
check "missing file: exit 3" test $RC = 3
check "missing file: GitLab's message, the folder named" \
	has "Project \`g/p\` file \`nope.yml\` does not exist! (--local-project $T/shared)" "$T/err"
check "missing file: at the file: entry" grep -Eq '^\.gitlab-ci\.yml:3:11: error: Project' "$T/err"
inc "  - component: 127.0.0.1:$AP/g/comp/nope@1.0.0
"
r p list $V --local-project "g/comp=$T/shared"
check "missing component: GitLab's message" \
	has "component: \`127.0.0.1:$AP/g/comp/nope@1.0.0\`. One of the files [templates/nope.yml,templates/nope/template.yml] must exist in \`127.0.0.1:$AP/g/comp\`" "$T/err"
r p list --local-project g/p
check "no =DIR: exit 2" test $RC = 2
check "no =DIR: the form" has "--local-project 'g/p' should be group/project[@ref]=DIR" "$T/err"
r p list --local-project "g/p=$T/none"
check "no such folder: exit 2" test $RC = 2
check "no such folder: named" has "no folder '$T/none'" "$T/err"

say "1..$N"
[ "$T_FAILED" = 0 ]
