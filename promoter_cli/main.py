def main() -> None:
    raise SystemExit("the promoter CLI is not built yet (see issue 4)")
