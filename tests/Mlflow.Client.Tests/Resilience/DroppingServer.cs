using System.Net;
using System.Net.Sockets;

namespace Mlflow.Client.Tests.Resilience;

/// <summary>A TCP server on 127.0.0.1 that reads each request's first bytes and closes the connection without answering.</summary>
internal sealed class DroppingServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));
    private readonly Task _loop;
    private int _requests;

    public DroppingServer()
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptLoopAsync);
    }

    public string Url { get; }

    /// <summary>Connections that delivered request bytes.</summary>
    public int Requests => Volatile.Read(ref _requests);

    private async Task AcceptLoopAsync()
    {
        var buffer = new byte[4096];
        for (int i = 0; i < 100 && !_stop.IsCancellationRequested; i++)
        {
            try
            {
                using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                {
                    Interlocked.Increment(ref _requests);
                }

                socket.LingerState = new LingerOption(true, 0); // reset, not a graceful close
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // a client gave up first: keep accepting
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
