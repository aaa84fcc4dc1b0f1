/* layer_stub.c - the program `make layers` links each stage into, whole,
 * with only the stages below it (Makefile, ARCHITECTURE.md "Stages"). */
int main(void);

int main(void)
{
	return 0;
}
