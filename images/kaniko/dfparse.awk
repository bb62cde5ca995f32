# dfparse.awk — Dockerfile helpers for the kaniko stand-in executor (busybox awk).
#
#   awk -f dfparse.awk -v mode=split  < Dockerfile
#       one instruction per line: "INSTRUCTION<TAB>arguments" (continuation
#       lines joined, comments and blank lines dropped, keyword upper-cased)
#   awk -f dfparse.awk -v mode=words -v vars=FILE  <<< "text"
#       shell-like words, one per line, after variable expansion ($V, ${V},
#       ${V:-w}, ${V:+w}, ${V-w}, ${V+w}) with values from FILE (KEY=VALUE
#       lines, last wins); quotes removed, '...' not expanded, \ escapes
#   awk -f dfparse.awk -v mode=expand -v vars=FILE  <<< "text"
#       the text with variables expanded (quotes kept), one line
#   awk -f dfparse.awk -v mode=json  <<< '["a", "b"]'
#       elements of a JSON array of strings, one per line; exit 1 if the text
#       is not one

function load_vars(file,   line, k, eq) {
  if (file == "") return
  while ((getline line < file) > 0) {
    eq = index(line, "=")
    if (eq < 2) continue
    k = substr(line, 1, eq - 1)
    V[k] = substr(line, eq + 1)
    D[k] = 1
  }
  close(file)
}

# expand variables in s; keepq: keep quote characters in the output.
# With split=1, words are separated by unquoted blanks into W[1..NW].
function process(s, keepq, dosplit,   i, n, c, out, q, name, rest, j, op, word, depth, val, have) {
  n = length(s); out = ""; q = ""; NW = 0; have = 0
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\\" && q != "'" && i < n) {
      nc = substr(s, i + 1, 1)
      if (q == "\"" && nc != "\"" && nc != "\\" && nc != "$") { out = out c; have = 1; continue }
      if (keepq) out = out c
      out = out nc; i++; have = 1; continue
    }
    if (q == "" && (c == "'" || c == "\"")) { q = c; if (keepq) out = out c; have = 1; continue }
    if (q != "" && c == q) { q = ""; if (keepq) out = out c; continue }
    if (dosplit && q == "" && (c == " " || c == "\t")) {
      if (have) { W[++NW] = out; out = ""; have = 0 }
      continue
    }
    if (c == "$" && q != "'" && i < n) {
      nc = substr(s, i + 1, 1)
      if (nc == "{") {
        # find the matching }
        depth = 1
        for (j = i + 2; j <= n; j++) {
          cc = substr(s, j, 1)
          if (cc == "{") depth++
          else if (cc == "}") { depth--; if (depth == 0) break }
        }
        inner = substr(s, i + 2, j - i - 2)
        i = j
        if (match(inner, /^[A-Za-z_][A-Za-z0-9_]*/)) {
          name = substr(inner, 1, RLENGTH); rest = substr(inner, RLENGTH + 1)
        } else { name = inner; rest = "" }
        op = ""; word = ""
        if (substr(rest, 1, 2) == ":-" || substr(rest, 1, 2) == ":+") { op = substr(rest, 1, 2); word = substr(rest, 3) }
        else if (substr(rest, 1, 1) == "-" || substr(rest, 1, 1) == "+") { op = substr(rest, 1, 1); word = substr(rest, 2) }
        if (op == ":-") val = (V[name] != "") ? V[name] : process_sub(word)
        else if (op == "-") val = (name in D) ? V[name] : process_sub(word)
        else if (op == ":+") val = (V[name] != "") ? process_sub(word) : ""
        else if (op == "+") val = (name in D) ? process_sub(word) : ""
        else val = V[name]
        out = out val; have = 1
        continue
      }
      if (match(substr(s, i + 1), /^[A-Za-z_][A-Za-z0-9_]*/)) {
        name = substr(s, i + 1, RLENGTH)
        out = out V[name]; have = 1
        i += RLENGTH
        continue
      }
    }
    out = out c; have = 1
  }
  if (dosplit) { if (have) W[++NW] = out; return "" }
  return out
}

# expansion of a ${V:-word} word (no splitting, quotes kept as typed)
function process_sub(w,   saveNW, r) { saveNW = NW; r = process(w, 1, 0); NW = saveNW; return r }

function json_array(s,   n, i, c, out, inq, esc, cnt) {
  sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
  if (substr(s, 1, 1) != "[" || substr(s, length(s), 1) != "]") return -1
  s = substr(s, 2, length(s) - 2)
  n = length(s); inq = 0; out = ""; cnt = 0
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (inq) {
      if (c == "\\") {
        i++; c = substr(s, i, 1)
        if (c == "n") out = out "\n"; else if (c == "t") out = out "\t"; else out = out c
      } else if (c == "\"") { inq = 0; J[++cnt] = out; out = "" }
      else out = out c
    } else if (c == "\"") inq = 1
    else if (c == "," || c == " " || c == "\t") continue
    else return -1
  }
  if (inq) return -1
  return cnt
}

BEGIN {
  if (mode == "words" || mode == "expand") load_vars(vars)
  buf = ""
}

mode == "split" {
  line = $0
  sub(/\r$/, "", line)
  if (buf == "" && line ~ /^[ \t]*#/) next
  if (buf != "" && line ~ /^[ \t]*#/) next          # comments inside continuations
  if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); buf = buf line; next }
  line = buf line; buf = ""
  sub(/^[ \t]+/, "", line)
  if (line == "") next
  kw = line; sub(/[ \t].*$/, "", kw)
  rest = substr(line, length(kw) + 1); sub(/^[ \t]+/, "", rest); sub(/[ \t]+$/, "", rest)
  printf "%s\t%s\n", toupper(kw), rest
  next
}

mode == "words" { process($0, 0, 1); for (k = 1; k <= NW; k++) print W[k]; next }
mode == "expand" { print process($0, 1, 0); next }
mode == "json" { n = json_array($0); if (n < 0) exit 1; for (k = 1; k <= n; k++) print J[k]; next }

END {
  if (mode == "split" && buf != "") {
    line = buf; sub(/^[ \t]+/, "", line)
    kw = line; sub(/[ \t].*$/, "", kw)
    rest = substr(line, length(kw) + 1); sub(/^[ \t]+/, "", rest)
    if (kw != "") printf "%s\t%s\n", toupper(kw), rest
  }
}
