// The runner measures allocation process-wide (the engine works on several threads): tests running
// alongside would be counted against the input under test.
[assembly: DoNotParallelize]
