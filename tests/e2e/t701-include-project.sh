#!/bin/sh
# project: includes through the GitLab REST API of the pipeline's server: a local HTTPS server
# (tests/servers/include-server.py --api-root) answers the repository files raw endpoint with
# GitLab's token checks (private project: no token 404, a wrong token 401). No engine needed.
#
# - the GNOME/librsvg corpus config resolves its project: include over the API and lists the
#   same jobs as with --include-dir
# - GITLAB_TOKEN goes as PRIVATE-TOKEN, CI_JOB_TOKEN as JOB-TOKEN, else glab's stored login
#   for the host (its config only read), only to the server; a wrong
#   or missing token, a missing file, a missing ref: GitLab's messages at the include entry
# - local includes inside a fetched project file are that project's files at the same ref
# - tokens never appear in runnel's output
set -u

. "$(dirname "$0")/lib-include.sh"

TOKEN=glpat-t700-secret-token
mkdir -p api/GNOME/citemplates api/g/p/v1/ci api/g/p/HEAD
cp -r "$SRC/tests/fixtures/real-includes/GNOME__librsvg/project/GNOME/citemplates/HEAD" \
	api/GNOME/citemplates/
printf 'include:\n  - local: ci/b.yml\na-job:\n  script: x\n' >api/g/p/v1/ci/a.yml
printf 'b-job:\n  script: x\n' >api/g/p/v1/ci/b.yml
printf 'default-branch-job:\n  script: x\n' >api/g/p/HEAD/d.yml
start_server api --root "$T/api" --api-root "$T/api" --token "$TOKEN" \
	--cert "$T/srv.pem" --key "$T/srv.key"
AP=$(cat api.port)
SERVER=https://127.0.0.1:$AP

# ---- the corpus configuration ----
corpus_copy GNOME__librsvg rsvg
if [ -f rsvg/.gitlab-ci.yml ]; then
	repo rsvg
	full=$SRC/tests/fixtures/real-includes/GNOME__librsvg
	mkdir -p partial
	# remote: and component: stand-ins only: the project: file comes from the API
	cp -r "$full/remote" "$full/component" partial/
	r rsvg list --include-dir "$full" --variable CI_SERVER_FQDN=gitlab.com
	cp "$T/out" "$T/want"
	r rsvg list --include-dir "$T/partial" --variable CI_SERVER_FQDN=gitlab.com \
		--variable "CI_SERVER_URL=$SERVER"
	check "corpus list over the API = with --include-dir" cmp -s "$T/out" "$T/want"
	check "corpus list: no warning or error" test ! -s "$T/err" -a $RC = 0
	check "the API was asked for the file at the default branch" \
		has '"path": "/api/v4/projects/GNOME%2Fcitemplates/repository/files/templates%2Fdefault-rules.yml/raw"' api.log
else
	say "# corpus GNOME__librsvg not found: corpus case skipped"
fi

# ---- a project of its own ----
mkdir -p p
proj() { # proj YAML-LINES: the include entry of p/.gitlab-ci.yml
	printf 'include:\n%smain-job:\n  script: x\n' "$1" >p/.gitlab-ci.yml
}
proj '  - project: g/p
    ref: v1
    file: /ci/a.yml
  - project: g/p
    file: d.yml
'
repo p
V="--variable CI_SERVER_URL=$SERVER"
r p list $V
check "project file at a ref" has a-job "$T/out"
check "its local include: the same project at the same ref" has b-job "$T/out"
check "no ref: the default branch" has default-branch-job "$T/out"
check "exit 0, nothing on stderr" test $RC = 0 -a ! -s "$T/err"
check "GITLAB_TOKEN is sent as PRIVATE-TOKEN" has "\"PRIVATE-TOKEN\": \"$TOKEN\"" api.log
check "the nested local was asked at v1" has '/api/v4/projects/g%2Fp/repository/files/ci%2Fb.yml/raw?ref=v1"' api.log

# CI_JOB_TOKEN when there is no GITLAB_TOKEN
r GITLAB_TOKEN= "CI_JOB_TOKEN=$TOKEN" p list --refresh-includes $V
check "CI_JOB_TOKEN is sent as JOB-TOKEN" has "\"JOB-TOKEN\": \"$TOKEN\"" api.log
check "CI_JOB_TOKEN: the jobs" has a-job "$T/out"

# glab's stored login for the server when the environment has no token
mkdir -p glab
printf 'hosts:\n  127.0.0.1:%s:\n    token: %s\n    api_protocol: https\n' "$AP" "$TOKEN" \
	>glab/config.yml
cp glab/config.yml glab/config.before
n_tok=$(grep -c "\"PRIVATE-TOKEN\": \"$TOKEN\"" api.log)
r GITLAB_TOKEN= CI_JOB_TOKEN= "GLAB_CONFIG_DIR=$T/glab" p list --refresh-includes $V
check "glab's token: the jobs" has a-job "$T/out"
check "glab's token is sent as PRIVATE-TOKEN" \
	test "$(grep -c "\"PRIVATE-TOKEN\": \"$TOKEN\"" api.log)" -gt "$n_tok"
check "glab's config is not written" cmp -s glab/config.yml glab/config.before

expect_error() { # expect_error DESC TEXT
	check "$1: exit 3" test $RC = 3
	check "$1: the message" has "$2" "$T/err"
	check "$1: at the file: entry" grep -Eq '^\.gitlab-ci\.yml:[34]:11: error: Project' "$T/err"
	check "$1: with a caret" grep -Eq '^ {10}\^$' "$T/err"
	check "$1: no token in the output" hasnt secret-token "$T/err"
}

r GITLAB_TOKEN=glpat-wrong-secret-token CI_JOB_TOKEN= p list --refresh-includes $V
expect_error "wrong token" "Project \`g/p\` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined. (HTTP 401 from 127.0.0.1)"

r GITLAB_TOKEN= CI_JOB_TOKEN= p list --refresh-includes $V
expect_error "no token" "not found or access denied! Make sure any includes in the pipeline configuration are correctly defined. (HTTP 404 from 127.0.0.1; no token: set GITLAB_TOKEN or CI_JOB_TOKEN)"

proj '  - project: g/p
    ref: v1
    file: nope.yml
'
r p list $V
expect_error "missing file" "Project \`g/p\` file \`nope.yml\` does not exist!"

proj '  - project: g/p
    ref: v9
    file: a.yml
'
r p list $V
expect_error "missing ref" "Project \`g/p\` reference \`v9\` does not exist!"

proj '  - project: g/none
    file: a.yml
'
r p list $V
expect_error "missing project" "Project \`g/none\` not found or access denied!"

# a redirect with a token is not followed (curl would carry the header to any host)
proj '  - project: g/redirect
    file: a.yml
'
r p list $V
check "redirect with a token: exit 3" test $RC = 3
check "redirect with a token: not followed" has "(HTTP 302: a redirect is not followed with a token)" "$T/err"
check "redirect with a token: the other host got nothing" hasnt '"Host": "localhost:' api.log

# without an origin remote the server is runnel's placeholder https://gitlab.example.com: a
# reserved name (RFC 2606) is never asked, the offline message says what to do
r p list
check "placeholder server: the offline message" has "cannot be fetched offline; pass --include-dir" "$T/err"
check "placeholder server: exit 3" test $RC = 3

# the cache: within the TTL no request; with the server gone a stale copy and a warning
proj '  - project: g/p
    ref: v1
    file: /ci/a.yml
'
r p list $V --refresh-includes
n=$(wc -l <api.log)
r p list $V
check "cached project files ask nothing within the TTL" test "$(wc -l <api.log)" = "$n" -a $RC = 0
kill "$api_pid"
wait "$api_pid" 2>/dev/null
find "$T/cache" -type f -exec touch -d '2 days ago' {} +
r p list $V
check "server down: the cached copy" has b-job "$T/out"
check "server down: a warning naming the include and its age" \
	has "warning: project include 'g/p:ci/a.yml' served from the cache, fetched 2 days ago" "$T/err"

say "1..$N"
[ "$T_FAILED" = 0 ]
