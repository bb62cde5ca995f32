#!/bin/sh
# component: includes through the GitLab REST API of the component's own host: a local HTTPS
# server (tests/servers/include-server.py --api-root) answers the releases and repository
# files raw endpoints with GitLab's token checks (private project: no token 404, a wrong
# token 401), behind the HTTPS proxy for gitlab.com. No engine needed.
#
# - the integratop/gitlab-org-charts-mirror corpus config (components on gitlab.com at exact
#   versions) lists the same jobs as with --include-dir
# - ~latest, @1 and @1.2 pick the highest released semantic version (not the newest, not
#   lexical order), pre-releases and upcoming releases skipped, a pre-release named in full
#   taken; templates/NAME.yml and templates/NAME/template.yml; SHAs and branches directly
# - GitLab's messages: a missing template file, no matching release, a refused token
# - the environment's token goes only to the pipeline's own server; never in any output
# - the cache: exact versions are immutable (no request even after the TTL), ~latest is
#   fetched again after it; without the server the cached copy and a warning
set -u

. "$(dirname "$0")/lib-include.sh"

TOKEN=glpat-t700-secret-token
# ---- the corpus configuration (components on gitlab.com, through the proxy) ----
mkdir -p api
fx=$SRC/tests/fixtures/real-includes/integratop__gitlab-org-charts-mirror
component_standins "$fx" api
start_server api --root "$T/api" --api-root "$T/api" --token "$TOKEN" \
	--cert "$T/srv.pem" --key "$T/srv.key"
AP=$(cat api.port)
python3 "$SRC/tests/servers/connect-proxy.py" --to "$AP" --port-file "$T/proxy.port" \
	--log "$T/proxy.log" 2>"$T/proxy.stderr" &
PIDS="$PIDS $!"
PROXY=http://127.0.0.1:$(wait_port "$T/proxy.port")

corpus_copy integratop__gitlab-org-charts-mirror chart
if [ -f chart/.gitlab-ci.yml ]; then
	repo chart
	mkdir -p partial
	cp -r "$fx/template" partial/ # template: stand-ins only: components come from the API
	# a merge request pipeline of the canonical project (its workflow:rules want one)
	G="--variable CI_SERVER_FQDN=gitlab.com --variable CI_SERVER_HOST=gitlab.com
		--variable CI_PIPELINE_SOURCE=merge_request_event
		--variable CI_PROJECT_PATH=gitlab-org/charts/gitlab"
	for verb in list config; do
		r chart "$verb" --include-dir "$fx" $G
		cp "$T/out" "$T/want"
		r https_proxy=$PROXY chart "$verb" --include-dir "$T/partial" $G \
			--variable CI_SERVER_URL=https://gitlab.com
		check "corpus $verb over the API = with --include-dir" cmp -s "$T/out" "$T/want"
		check "corpus $verb: no warning or error" test ! -s "$T/err" -a $RC = 0
	done
	check "corpus config: the component's job is there" has danger-review "$T/out"
	check "the component's file was asked at its tag" \
		has '/api/v4/projects/gitlab-org%2Fcomponents%2Fdanger-review/repository/files/templates%2Fdanger-review.yml/raw?ref=2.1.0"' api.log
	check "the proxy was asked for gitlab.com" has '"CONNECT gitlab.com:443 HTTP/1.1"' proxy.log
	check "the server's token went to the component on the same host" \
		has "\"PRIVATE-TOKEN\": \"$TOKEN\"" api.log
else
	say "# corpus integratop__gitlab-org-charts-mirror not found: corpus case skipped"
fi

# ---- a component project of its own: g/comp on 127.0.0.1 ----
C=api/g/comp
for v in 0.9.0 1.0.0 1.2.0 1.2.5 1.10.0 2.0.0-rc1 3.0.0 main; do
	mkdir -p "$C/$v/templates/dirform"
	job=$(printf '%s' "$v" | tr '.' '-')
	printf 'spec:\n  inputs:\n    stage:\n      default: test\n---\njob-%s:\n  stage: $[[ inputs.stage ]]\n  script: x\n' \
		"$job" >"$C/$v/templates/job.yml"
	printf 'dir-%s:\n  script: x\n' "$job" >"$C/$v/templates/dirform/template.yml"
done
mkdir -p "$C/0123456789abcdef0123456789abcdef01234567/templates"
printf 'sha-job:\n  script: x\n' >"$C/0123456789abcdef0123456789abcdef01234567/templates/job.yml"
# newest first, as GitLab lists them; 1.10.0 is not the newest release but the highest
cat >"$C/releases.json" <<'EOF'
[{"tag_name": "3.0.0", "upcoming_release": true},
 {"tag_name": "2.0.0-rc1", "upcoming_release": false},
 {"tag_name": "1.2.5", "upcoming_release": false},
 {"tag_name": "1.10.0", "upcoming_release": false},
 {"tag_name": "1.2.0", "upcoming_release": false},
 {"tag_name": "v9.9.9", "upcoming_release": false},
 {"tag_name": "1.0.0", "upcoming_release": false},
 {"tag_name": "0.9.0", "upcoming_release": false}]
EOF
H=127.0.0.1:$AP/g/comp
mkdir -p p
comp() { # comp ENTRY-LINES: p/.gitlab-ci.yml including them
	printf 'include:\n%smain-job:\n  script: x\n' "$1" >p/.gitlab-ci.yml
}
repo p
V="--variable CI_SERVER_URL=https://127.0.0.1:$AP"
jobs_of() { # the job names runnel listed (first column), one a line
	awk 'NR > 1 { print $1 }' "$T/out" | sort | tr '\n' ' '
}

comp "  - component: $H/job@~latest
    inputs:
      stage: build
"
r p list $V
check "~latest: exit 0, nothing on stderr" test $RC = 0 -a ! -s "$T/err"
check "~latest: the highest released version (1.10.0, not 3.0.0 upcoming or the rc)" \
	has job-1-10-0 "$T/out"
check "~latest: the input reached the component" grep -Eq 'job-1-10-0 +build' "$T/out"
check "~latest: releases asked with the token" has '"path": "/api/v4/projects/g%2Fcomp/releases?per_page=100"' api.log

comp "  - component: $H/job@1
  - component: $H/job@1.2
  - component: $H/job@0
  - component: $H/job@2.0.0-rc1
  - component: $H/dirform@1.2.0
  - component: $H/job@main
  - component: $H/job@0123456789abcdef0123456789abcdef01234567
"
r p list $V
check "ranges, tags, branch, SHA: exit 0" test $RC = 0 -a ! -s "$T/err"
check "@1: 1.10.0" has job-1-10-0 "$T/out"
check "@1.2: 1.2.5" has job-1-2-5 "$T/out"
check "@0: 0.9.0" has job-0-9-0 "$T/out"
check "a pre-release named in full" has job-2-0-0-rc1 "$T/out"
check "templates/NAME/template.yml" has dir-1-2-0 "$T/out"
check "a branch" has job-main "$T/out"
check "a SHA" has sha-job "$T/out"
check "nothing else" test "$(jobs_of)" = "dir-1-2-0 job-0-9-0 job-1-10-0 job-1-2-5 job-2-0-0-rc1 job-main main-job sha-job "

expect_error() { # expect_error DESC TEXT
	check "$1: exit 3" test $RC = 3
	check "$1: the message" has "$2" "$T/err"
	check "$1: at the component: entry" grep -Eq '^\.gitlab-ci\.yml:2:16: error: component' "$T/err"
	check "$1: no token in the output" hasnt secret-token "$T/err"
}
comp "  - component: $H/nope@1.2.5
"
r p list $V
expect_error "missing template" "component: \`$H/nope@1.2.5\`. One of the files [templates/nope.yml,templates/nope/template.yml] must exist in \`$H\`"

comp "  - component: $H/job@4
"
r p list $V
expect_error "no matching release" "component '$H/job@4' - content not found (no released version matches)"

comp "  - component: $H/job@9.9.9
"
r p list $V
expect_error "no such tag" "component '$H/job@9.9.9' - content not found"

comp "  - component: $H/job@1.2.0
"
r GITLAB_TOKEN=glpat-wrong-secret-token CI_JOB_TOKEN= p list $V
expect_error "wrong token" "component '$H/job@1.2.0' - project does not exist or you don't have sufficient permissions (HTTP 401 from 127.0.0.1)"

# the pipeline's server is another host: the environment's token is not the component's
n=$(grep -c PRIVATE-TOKEN api.log)
r p list --variable CI_SERVER_URL=https://localhost:$AP
expect_error "another server" "project does not exist or you don't have sufficient permissions (HTTP 404 from 127.0.0.1; no token for that host: log in with glab)"
check "another server: no token sent to the component's host" test "$(grep -c PRIVATE-TOKEN api.log)" = "$n"
# glab's login for the component's host is used then
mkdir -p glab
printf 'hosts:\n  127.0.0.1:%s:\n    token: %s\n' "$AP" "$TOKEN" >glab/config.yml
r "GLAB_CONFIG_DIR=$T/glab" p list --variable CI_SERVER_URL=https://localhost:$AP
check "another server, glab's login for the host: the job" has job-1-2-0 "$T/out"

# ---- the cache ----
comp "  - component: $H/job@1.2.0
  - component: $H/job@~latest
"
r p list $V --refresh-includes
check "cache: fetched" test $RC = 0
n=$(wc -l <api.log)
find "$T/cache" -type f -exec touch -d '2 days ago' {} +
r p list $V
check "cache: exact version not asked again after the TTL, ~latest is" \
	test "$(grep -c 'releases' api.log)" -ge 2 -a "$(sed -n "$((n + 1)),\$p" api.log | grep -c 'ref=1.2.0')" = 0
kill "$api_pid"
wait "$api_pid" 2>/dev/null
find "$T/cache" -type f -exec touch -d '2 days ago' {} +
r p list $V
check "server down: both from the cache" has job-1-10-0 "$T/out"
check "server down: a warning for ~latest naming its age" \
	has "warning: component include '$H/job@~latest' served from the cache, fetched 2 days ago" "$T/err"
check "server down: no warning for the immutable version" hasnt "job@1.2.0' served" "$T/err"

say "1..$N"
[ "$T_FAILED" = 0 ]
