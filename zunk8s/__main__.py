from zunk8s.cli import main

main()
