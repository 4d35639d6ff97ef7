/* zunk8s-minimal's only program: an image with no shell and no tar, for tests of what Zun does
 * when a container cannot run commands (exec of sh fails, kubectl cp fails).
 * Prints one line (plus its arguments) to stdout, then sleeps until SIGTERM/SIGINT (exit 0). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv)
{
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	printf("zunk8s-minimal started");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	for (;;)
		pause();
}
