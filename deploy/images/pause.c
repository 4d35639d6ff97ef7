/* zunk8s pause: the sandbox (infra) process of every pod on the real kubelet node.
 * It runs as PID 1 of the pod's namespaces, so it must reap orphans and exit on TERM/INT
 * (PID 1 gets no default signal actions). Built with gcc -static; no libc in the image. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, 0, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction sa = {0};
	sigset_t all;

	/* Block everything while the handlers are installed, then wait in pause() forever. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, 0);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, 0);
	sigaction(SIGTERM, &sa, 0);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);
	sigprocmask(SIG_UNBLOCK, &all, 0);
	for (;;)
		pause();
}
