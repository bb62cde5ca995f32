#!/bin/sh
# template: includes from the network: the pipeline server's templates API
# (/api/v4/templates/gitlab_ci_ymls/KEY), else GitLab's repository (gitlab-org/gitlab,
# lib/gitlab/ci/templates/NAME) at the revision the server's /api/v4/version names. One local
# HTTPS server (tests/servers/include-server.py) plays both, gitlab.com reached through the
# HTTPS proxy (tests/servers/connect-proxy.py). No engine needed.
#
# - a top-level name from the API; a nested one (Jobs/Build) from the repository at the
#   server's revision, without the server's token; `master` when the version is refused
# - GitLab's messages: a missing template, a name without `.gitlab-ci.yml`
# - the integratop/gitlab-org-charts-mirror corpus config with nothing under --include-dir
#   (templates and components all fetched) lists the same jobs as with --include-dir
set -u

. "$(dirname "$0")/lib-include.sh"

TOKEN=glpat-t700-secret-token
REV=0123456789abcdef0123456789abcdef01234567
mkdir -p tpl api/gitlab-org/gitlab/$REV/lib/gitlab/ci/templates/Jobs \
	api/gitlab-org/gitlab/master/lib/gitlab/ci/templates/Jobs
printf 'bash-api-job:\n  script: x\n' >tpl/Bash.gitlab-ci.yml
printf 'build-at-revision:\n  script: x\n' \
	>api/gitlab-org/gitlab/$REV/lib/gitlab/ci/templates/Jobs/Build.gitlab-ci.yml
printf 'build-at-master:\n  script: x\n' \
	>api/gitlab-org/gitlab/master/lib/gitlab/ci/templates/Jobs/Build.gitlab-ci.yml
printf '{"version": "17.5.0-ee", "revision": "%s"}\n' "$REV" >version.json

# the corpus's templates and components, in GitLab's repository and on gitlab.com
fx=$SRC/tests/fixtures/real-includes/integratop__gitlab-org-charts-mirror
cp -r "$fx/template/." api/gitlab-org/gitlab/$REV/lib/gitlab/ci/templates/
component_standins "$fx" api

start_server api --root "$T/api" --api-root "$T/api" --token "$TOKEN" --public gitlab-org/gitlab \
	--templates "$T/tpl" --version-json "$T/version.json" --cert "$T/srv.pem" --key "$T/srv.key"
AP=$(cat api.port)
python3 "$SRC/tests/servers/connect-proxy.py" --to "$AP" --port-file "$T/proxy.port" \
	--log "$T/proxy.log" 2>"$T/proxy.stderr" &
PIDS="$PIDS $!"
PROXY=http://127.0.0.1:$(wait_port "$T/proxy.port")
# the pipeline's own server is 127.0.0.1 (not proxied); gitlab.com goes through the proxy
export https_proxy=$PROXY no_proxy=127.0.0.1

mkdir -p p
tpl() { # tpl ENTRY-LINES: p/.gitlab-ci.yml including them
	printf 'include:\n%smain-job:\n  script: x\n' "$1" >p/.gitlab-ci.yml
}
tpl '  - template: Bash.gitlab-ci.yml
  - template: Jobs/Build.gitlab-ci.yml
'
repo p
V="--variable CI_SERVER_URL=https://127.0.0.1:$AP"
r p list $V
check "exit 0, nothing on stderr" test $RC = 0 -a ! -s "$T/err"
check "a top-level template from the server's API" has bash-api-job "$T/out"
check "the API was asked by key" has '"path": "/api/v4/templates/gitlab_ci_ymls/Bash"' api.log
check "a nested template from GitLab's repository at the server's revision" \
	has build-at-revision "$T/out"
check "the server's version was asked with the token" \
	grep -q "\"path\": \"/api/v4/version\".*\"PRIVATE-TOKEN\": \"$TOKEN\"" api.log
check "the repository file was asked at the revision, through the proxy for gitlab.com" \
	has "/api/v4/projects/gitlab-org%2Fgitlab/repository/files/lib%2Fgitlab%2Fci%2Ftemplates%2FJobs%2FBuild.gitlab-ci.yml/raw?ref=$REV\"" api.log
check "the proxy was asked for gitlab.com" has '"CONNECT gitlab.com:443 HTTP/1.1"' proxy.log
check "the server's token did not go to gitlab.com" \
	test "$(grep 'gitlab-org%2Fgitlab' api.log | grep -c PRIVATE-TOKEN)" = 0

# without a token the server does not say its version: GitLab's master
r GITLAB_TOKEN= CI_JOB_TOKEN= p list --refresh-includes $V
check "no token: the repository's master" has build-at-master "$T/out"
check "no token: the API's template all the same" has bash-api-job "$T/out"

expect_error() { # expect_error DESC TEXT
	check "$1: exit 3" test $RC = 3
	check "$1: the message" has "$2" "$T/err"
	check "$1: at the template: entry" grep -Eq '^\.gitlab-ci\.yml:2:15: error: ' "$T/err"
	check "$1: no token in the output" hasnt secret-token "$T/err"
}
tpl '  - template: Nope.gitlab-ci.yml
'
r p list $V
expect_error "missing template" "Included file \`Nope.gitlab-ci.yml\` is empty or does not exist! (HTTP 404 from gitlab.com)"
tpl '  - template: Bash.yml
'
r p list $V
expect_error "not a template name" "Template file \`Bash.yml\` is not a valid location!"

# ---- the corpus configuration: nothing under --include-dir ----
corpus_copy integratop__gitlab-org-charts-mirror chart
if [ -f chart/.gitlab-ci.yml ]; then
	repo chart
	G="--variable CI_SERVER_FQDN=gitlab.com --variable CI_SERVER_HOST=gitlab.com
		--variable CI_PIPELINE_SOURCE=merge_request_event
		--variable CI_PROJECT_PATH=gitlab-org/charts/gitlab"
	for verb in list config; do
		r chart "$verb" --include-dir "$fx" $G
		cp "$T/out" "$T/want"
		r chart "$verb" $G --variable CI_SERVER_URL=https://gitlab.com
		check "corpus $verb over the network = with --include-dir" cmp -s "$T/out" "$T/want"
		check "corpus $verb: no warning or error" test ! -s "$T/err" -a $RC = 0
	done
	check "corpus: its Jobs/SAST.latest template came from the repository" \
		has "templates%2FJobs%2FSAST.latest.gitlab-ci.yml/raw?ref=$REV\"" api.log
else
	say "# corpus integratop__gitlab-org-charts-mirror not found: corpus case skipped"
fi

say "1..$N"
[ "$T_FAILED" = 0 ]
