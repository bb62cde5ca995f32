#!/bin/sh
# t208: every job gets a git repository at CI_PROJECT_DIR, as gitlab-runner's checkout: HEAD
# detached at CI_COMMIT_SHA, the project's history and tags, uncommitted changes of the user's
# tree as modifications (none with --committed); GIT_STRATEGY none gives no .git, empty an
# empty directory, GIT_DEPTH a shallow history. Overlay and copy modes, Docker and shell
# executors. The user's .git is never written.
. "$(dirname "$0")/t200-run-lib.sh"
command -v git >/dev/null || { say "1..0 # SKIP no git"; exit 77; }
need_engine
snapshot_objects

# The test image plus the host's git and its libraries (status, log, describe are builtins).
GIT_IMAGE=runnel-test/git:latest
ensure_git_image() {
	docker image inspect "$GIT_IMAGE" >/dev/null 2>&1 && return 0
	root=$T_TMP/gitroot
	mkdir -p "$root/usr/bin" "$root/tmp" "$root/etc"
	cp "$(command -v git)" "$root/usr/bin/git"
	for l in $(ldd "$(command -v git)" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	printf 'FROM %s\nCOPY . /\nENV PATH=/usr/bin:/bin\n' "$TEST_IMAGE" >"$root/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "$GIT_IMAGE" "$root" >/dev/null 2>&1 ||
		{ say "Bail out! cannot build $GIT_IMAGE"; exit 1; }
}
ensure_git_image

p=$(make_project git <<'YML'
repo:
  image: runnel-test/git:latest
  script:
  - echo "head=$(git rev-parse HEAD) sha=$CI_COMMIT_SHA"
  - echo "status=[$(git status --porcelain | tr '\n' ' ')]"
  - echo "count=$(git log --oneline | wc -l)"
  - echo "describe=$(git describe --tags)"
  - echo "branch=$(git symbolic-ref -q HEAD || echo detached)"
  - echo "shallow=$(git rev-parse --is-shallow-repository)"
  - echo "dirty=[$(git diff-index --name-only HEAD -- | tr '\n' ' ')]"
  - echo job-write >> tracked.txt
depth:
  image: runnel-test/git:latest
  variables: {GIT_DEPTH: "2"}
  script:
    - echo "depth-count=$(git log --oneline | wc -l)"
    - echo "depth-shallow=$(git rev-parse --is-shallow-repository)"
none:
  image: runnel-test/git:latest
  variables: {GIT_STRATEGY: none}
  script:
    - test -e .git && echo none-has-git || echo none-no-git
    - cat tracked.txt
empty:
  image: runnel-test/git:latest
  variables: {GIT_STRATEGY: empty}
  script:
    - echo "empty-entries=$(ls -A | wc -l)"
shell-repo:
  tags: [shell]
  script:
    - echo "shell-head=$(git rev-parse HEAD) top=$(git rev-parse --show-toplevel)"
    - echo "shell-status=[$(git status --porcelain | tr '\n' ' ')]"
YML
)
(
	cd "$p" && git tag v1.0 &&
		for i in 2 3; do echo "$i" >"f$i.txt" && git add "f$i.txt" &&
			git -c user.email=t@e.st -c user.name=t commit -qm "c$i"; done &&
		echo changed >>tracked.txt && echo new >untracked.txt
) || { say "Bail out! cannot prepare the repository"; exit 1; }
sha=$(git -C "$p" rev-parse HEAD)
short=$(git -C "$p" rev-parse --short HEAD)
gitsum() { (cd "$1/.git" && find . -printf '%p %m %s %T@\n' | sort && find . -type f -exec cat {} + | sha256sum); }
before=$(gitsum "$p")

for mode in overlay copy archive; do
	RUNNEL_PROJECT_COPY=$mode run_runnel "$p" repo depth none empty
	expect_rc "$mode: jobs ran" 0
	expect "$mode: HEAD is the commit" "^repo +\| head=$sha sha=$sha"
	expect "$mode: uncommitted changes are modifications, untracked files untracked" \
		"^repo +\| status=\[ M tracked.txt \?\? untracked.txt \]"
	expect "$mode: full history" "^repo +\| count=3$"
	expect "$mode: tags" "^repo +\| describe=v1.0-2-g$short"
	expect "$mode: detached HEAD" "^repo +\| branch=detached"
	expect "$mode: not shallow" "^repo +\| shallow=false"
	expect "$mode: the index matches unchanged files (only tracked.txt differs)" \
		"^repo +\| dirty=\[tracked.txt \]"
	expect "$mode: GIT_DEPTH" "^depth +\| depth-count=2$"
	expect "$mode: GIT_DEPTH makes a shallow repository" "^depth +\| depth-shallow=true"
	expect "$mode: GIT_STRATEGY none: no .git" "^none +\| none-no-git"
	expect "$mode: GIT_STRATEGY none: files still there" "^none +\| tracked"
	expect "$mode: GIT_STRATEGY empty: nothing" "^empty +\| empty-entries=0"
done

run_runnel "$p" --committed repo
expect_rc "--committed" 0
expect "--committed: clean tree" "^repo +\| status=\[\]"
expect "--committed: index clean" "^repo +\| dirty=\[\]"
expect "--committed: HEAD" "^repo +\| head=$sha"

run_runnel "$p" --executor shell shell-repo
expect_rc "shell executor" 0
expect "shell: the job's own repository" "^shell-repo +\| shell-head=$sha top=.*/\.runnel/builds/shell-repo$"
expect "shell: status" "^shell-repo +\| shell-status=\[ M tracked.txt \?\? untracked.txt \]"

[ "$(gitsum "$p")" = "$before" ] && pass "the user's .git is unchanged" ||
	fail "the user's .git changed during the runs"

# A worktree: its .git is a file pointing into the main repository.
git -C "$p" worktree add -q --detach "$T_TMP/wt" HEAD~1 >/dev/null 2>&1 ||
	{ say "Bail out! git worktree add"; exit 1; }
before=$(gitsum "$p")
wsha=$(git -C "$T_TMP/wt" rev-parse HEAD)
run_runnel "$T_TMP/wt" repo
expect_rc "worktree project" 0
expect "worktree: HEAD is the worktree's commit" "^repo +\| head=$wsha sha=$wsha"
expect "worktree: history" "^repo +\| count=2$"
expect "worktree: clean" "^repo +\| status=\[\]"
[ "$(gitsum "$p")" = "$before" ] && pass "the user's .git is unchanged (worktree run)" ||
	fail "the user's .git changed during the worktree run"
[ "$(cat "$p/tracked.txt")" = "$(printf 'tracked\nchanged')" ] && pass "work tree untouched" ||
	fail "tracked.txt changed in the user's tree"
assert_no_leftovers
test_done
