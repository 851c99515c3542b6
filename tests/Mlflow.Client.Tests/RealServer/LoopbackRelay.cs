using System.Net;
using System.Net.Sockets;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a real server, that a test opens and shuts: while shut, a connection is closed
/// as soon as it is accepted (the client sees the server unreachable); while open, its bytes go to the server and back.
/// Lets a test restart and freeze a server with no moment in which a client reaches it half-way. Bounded: it accepts at
/// most 10,000 connections and stops after 10 minutes.
/// </summary>
internal sealed class LoopbackRelay : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(10));
    private readonly int _targetPort;
    private readonly Task _loop;
    private volatile bool _open = true;

    public LoopbackRelay(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The relay's address, for the client.</summary>
    public string Url { get; }

    /// <summary>Whether new connections reach the server (connections already relayed go on either way).</summary>
    public bool Open
    {
        get => _open;
        set => _open = value;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        for (var i = 0; i < 10_000 && !_stop.IsCancellationRequested; i++)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (!_open)
            {
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using (client)
        using (var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // the server or the client went away: so does the other side
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
