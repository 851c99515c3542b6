using System.Net;
using System.Net.Sockets;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// The public port of <see cref="FakeMlflowServer"/>: a loopback TCP listener that pipes each connection to the server's
/// <see cref="HttpListener"/> on a private port, and that goes down (new connections refused, open ones closed) and up
/// again on the same port without touching the <see cref="HttpListener"/>.
/// </summary>
/// <remarks>
/// Why not stop and start an <see cref="HttpListener"/> on the port instead: .NET's managed listener (Linux, macOS)
/// starts accepting in the constructor of its internal <c>HttpEndPointListener</c> before it creates the table of
/// connections it locks for every accepted socket. A client that connects in that instant makes
/// <see cref="HttpListener.Start"/> throw <see cref="ArgumentNullException"/> (a <c>lock</c> on null) and leaves the port
/// bound by a socket nobody can close (the accept it left pending fails the same way on a pool thread). Clients
/// retrying a refused connection (a tracker's sender, its offline drain) make that instant likely: with four of them,
/// <c>FakeServerRestartTests</c> hit it within 42 to 818 restarts, and once saw a request that was never answered. A
/// plain <see cref="Socket"/> takes whatever is queued when it starts listening.
/// </remarks>
internal sealed class TcpFront : IDisposable
{
    private readonly IPEndPoint _backend;
    private readonly object _gate = new();
    private readonly HashSet<Socket> _open = [];
    private Socket? _listener;

    /// <summary>Listens on 127.0.0.1, on a free port; connections go to <paramref name="backend"/>.</summary>
    public TcpFront(IPEndPoint backend)
    {
        _backend = backend;
        Start(0);
    }

    /// <summary>The public port (the same after every <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    /// <summary>Listens again on <see cref="Port"/> (0 the first time: a free one).</summary>
    public void Start(int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // The closed connections of the port may linger in TIME_WAIT: they must not stop it listening again.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        lock (_gate)
        {
            _listener = listener;
        }

        _ = AcceptLoopAsync(listener);
    }

    /// <summary>Stops listening (connections are refused) and closes every connection it had accepted.</summary>
    public void Stop()
    {
        Socket? listener;
        Socket[] open;
        lock (_gate)
        {
            (listener, _listener) = (_listener, null);
            open = [.. _open];
            _open.Clear();
        }

        listener?.Dispose();
        foreach (var socket in open)
        {
            Close(socket);
        }
    }

    public void Dispose() => Stop();

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // stopped
            }

            _ = PipeAsync(listener, client);
        }
    }

    private async Task PipeAsync(Socket listener, Socket client)
    {
        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_gate)
        {
            if (_listener != listener)
            {
                // accepted just as the front went down: a connection the stopped server never served
                Close(client);
                backend.Dispose();
                return;
            }

            _open.Add(client);
            _open.Add(backend);
        }

        try
        {
            await backend.ConnectAsync(_backend);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // the front went down meanwhile (or the server is being disposed)
        }

        if (backend.Connected)
        {
            await Task.WhenAll(PumpAsync(client, backend), PumpAsync(backend, client));
        }

        lock (_gate)
        {
            _open.Remove(client);
            _open.Remove(backend);
        }

        Close(client);
        Close(backend);
    }

    /// <summary>
    /// Copies until <paramref name="from"/> ends its side, then ends the same side of <paramref name="to"/>; when either
    /// side fails (reset, or closed by <see cref="Stop"/>), closes both so the other direction ends too.
    /// </summary>
    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Close(from);
            Close(to);
        }
    }

    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // not connected, or closed already
        }

        socket.Dispose();
    }
}
