// Every scenario runs real `dotnet build` processes; on a 2-core machine they run one at a time.
[assembly: DoNotParallelize]
