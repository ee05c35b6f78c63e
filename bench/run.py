"""Run every benchmark in bench/ with its default size, one after another."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run.py", "harness.py", "__init__.py"}

if __name__ == "__main__":
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in SKIP:
            continue
        print(f"\n## {script.stem}", flush=True)
        failed |= subprocess.call([sys.executable, str(script)], cwd=HERE)
    sys.exit(failed)
