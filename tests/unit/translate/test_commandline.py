import pytest

from zunk8s.errors import InvalidValue
from zunk8s.translate.commandline import MAX_COMMAND_CHARS, STDIN_CHUNK, chunks_of, parse_ps, split_command


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ('"sh" "-c" "echo fail; exit 3"', ["sh", "-c", "echo fail; exit 3"]),  # python-zunclient's quoting
        ("ls -l /tmp", ["ls", "-l", "/tmp"]),
        ("echo 'a  b'", ["echo", "a  b"]),
        ("  env  ", ["env"]),
        ("x" * MAX_COMMAND_CHARS, ["x" * MAX_COMMAND_CHARS]),
    ],
)
def test_split_command(command: str, argv: list[str]) -> None:
    assert split_command(command) == argv


@pytest.mark.parametrize(
    ("command", "detail"),
    [
        ("", "The command is empty."),
        ("   ", "The command is empty."),
        ('echo "open', "Cannot parse command 'echo \"open': No closing quotation"),
        ("x" * (MAX_COMMAND_CHARS + 1), f"The command is {MAX_COMMAND_CHARS + 1} characters long; at most 65536 are allowed."),
    ],
)
def test_split_command_refuses(command: str, detail: str) -> None:
    with pytest.raises(InvalidValue) as info:
        split_command(command)
    assert info.value.detail == detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "PID   USER     TIME  COMMAND\n    1 root      0:00 sleep 3600\n   12 root      0:00 ps -ef\n",
            {
                "Titles": ["PID", "USER", "TIME", "COMMAND"],
                "Processes": [["1", "root", "0:00", "sleep 3600"], ["12", "root", "0:00", "ps -ef"]],
            },
        ),
        ("", {"Titles": [], "Processes": []}),
        ("\n  \n", {"Titles": [], "Processes": []}),
        ("PID CMD\n", {"Titles": ["PID", "CMD"], "Processes": []}),
        (
            "UID PID CMD\nroot 1 /bin/sh -c 'sleep  9'\n\n",
            {"Titles": ["UID", "PID", "CMD"], "Processes": [["root", "1", "/bin/sh -c 'sleep  9'"]]},
        ),
    ],
)
def test_parse_ps(text: str, expected: dict[str, object]) -> None:
    assert parse_ps(text) == expected


@pytest.mark.parametrize(
    ("size", "piece", "lengths"),
    [(0, 4, []), (3, 4, [3]), (8, 4, [4, 4]), (9, 4, [4, 4, 1]), (STDIN_CHUNK + 1, STDIN_CHUNK, [STDIN_CHUNK, 1])],
)
def test_chunks_of(size: int, piece: int, lengths: list[int]) -> None:
    data = bytes(i % 251 for i in range(size))
    chunks = list(chunks_of(data, piece))
    assert [len(c) for c in chunks] == lengths
    assert b"".join(chunks) == data
