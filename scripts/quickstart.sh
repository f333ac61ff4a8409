#!/usr/bin/env bash
# Runs README.md's "Quick start" as a newcomer would: every ```bash block of
# that section, in order, in one shell, from the repository root. Two
# adaptations only, both printed: the `export AWS_ACCESS_KEY_ID=… …` line
# takes the key pair `serve` printed, and the backgrounded `serve` gets its
# output in a log and is waited for (its /healthz) before the next line.
# The data directory and GOBIN are temporary. On a machine where the default
# ports (7654, 8080, 9090) are taken, it says so and stops without running.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

for port in 7654 8080 9090; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "quickstart: port $port is in use on this machine; the README's defaults cannot be tried here (not run)"
    exit 0
  fi
done

WORK=$(mktemp -d)

script="$WORK/quickstart.sh"
{
  echo 'set -euo pipefail'
  echo "cd '$PWD'"
  awk '/^## Quick start/{on=1; next} /^## /{on=0} on' README.md | awk '/^```bash/{c=1; next} /^```/{c=0; next} c'
} > "$WORK/raw.sh"
python3 - "$WORK/raw.sh" "$WORK" > "$script" <<'PY'
import re, sys
raw, work = open(sys.argv[1]).read().splitlines(), sys.argv[2]
for line in raw:
    code = line.split('#')[0].rstrip() if not line.startswith('#') else ''
    if re.match(r'^export AWS_ACCESS_KEY_ID=…', code):
        print('echo "+ (the key pair serve printed)"')
        print(f'eval "$(grep "^export " {work}/serve.log)"')
        print('export AWS_DEFAULT_REGION=us-east-1')
        continue
    if code.endswith('&') and 'stagefront serve' in code:
        code = code[:-1].replace('--data-dir stagefront-data', f'--data-dir {work}/stagefront-data')
        print(f'echo "+ {code.strip()} &"')
        print(f'{code} > {work}/serve.log 2>&1 &')
        print('SERVE_PID=$!')
        print(f'trap \'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null; cat {work}/serve.log | head -5; rm -rf {work}\' EXIT')
        print('for _ in $(seq 150); do curl -fs http://127.0.0.1:9090/healthz >/dev/null 2>&1 && break; sleep 0.1; done')
        continue
    if code:
        print(f'echo "+ {code.strip()}"' if '"' not in code else f"echo '+ {code.strip()}'")
        print(code)
PY
echo "== README quick start, as run:"
grep -v '^echo' "$script"
bash "$script"
echo "quickstart: ok"
