/* c-hello: a C user program built with gcc against the raw faultline ABI.
   Prints "c-hello: argv[I] = ARG" for each argument with write(1, ...) and
   exits with 42. No libc: the system calls are made with the `syscall`
   instruction (number in rax, arguments in rdi, rsi, rdx). */

#define SYS_EXIT 1
#define SYS_WRITE 10

static long
syscall3 (long nr, long a1, long a2, long a3)
{
  long ret;
  __asm__ volatile ("syscall"
                    : "=a" (ret)
                    : "a" (nr), "D" (a1), "S" (a2), "d" (a3)
                    : "rcx", "r11", "memory");
  return ret;
}

/* Appends S to BUF at *POS, keeping room for a final byte. */
static void
append (char *buf, unsigned long size, unsigned long *pos, const char *s)
{
  while (*s != '\0' && *pos + 1 < size)
    buf[(*pos)++] = *s++;
}

static void
print_arg (int i, const char *arg)
{
  char line[256];
  char digits[12];
  unsigned long pos = 0;
  int n = 0;
  do
    {
      digits[n++] = '0' + i % 10;
      i /= 10;
    }
  while (i > 0);
  char number[12];
  for (int k = 0; k < n; k++)
    number[k] = digits[n - 1 - k];
  number[n] = '\0';

  append (line, sizeof line, &pos, "c-hello: argv[");
  append (line, sizeof line, &pos, number);
  append (line, sizeof line, &pos, "] = ");
  append (line, sizeof line, &pos, arg);
  line[pos++] = '\n';
  syscall3 (SYS_WRITE, 1, (long) line, (long) pos);
}

static void __attribute__ ((noreturn))
sys_exit (int status)
{
  syscall3 (SYS_EXIT, status, 0, 0);
  for (;;)
    ;
}

int
main (int argc, char **argv)
{
  for (int i = 0; i < argc; i++)
    print_arg (i, argv[i]);
  return 42;
}

/* Called from _start with the kernel's rdi = argc and rsi = argv. */
void __attribute__ ((noreturn, used))
c_start (int argc, char **argv)
{
  sys_exit (main (argc, argv));
}

/* The entry point: rsp is at a fake return address, so align the stack as a
   call expects before entering C. */
__asm__ (".globl _start\n"
         "_start:\n"
         "  xor %ebp, %ebp\n"
         "  and $-16, %rsp\n"
         "  call c_start\n"
         "  ud2\n");
