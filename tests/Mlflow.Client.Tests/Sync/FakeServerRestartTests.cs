using System.Net;
using System.Net.Sockets;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// The fake server's restart (<see cref="FakeMlflowServer.StopListening"/>, <see cref="FakeMlflowServer.StartListening"/>)
/// while clients keep dialing its port, as a tracker's sender and its offline drain do after a refused connection.
/// </summary>
/// <remarks>
/// It used to start a fresh <see cref="HttpListener"/> on the port, and .NET's managed listener starts accepting before
/// it is ready: a client connecting in that instant made <see cref="HttpListener.Start"/> throw
/// <see cref="ArgumentNullException"/> from <c>HttpEndPointListener.ProcessAccept</c>, which is how
/// <c>Server_restarted_on_the_same_port_mid_run_every_point_once_in_order(True)</c> once failed (see <see cref="TcpFront"/>).
/// </remarks>
[NonParallelizable]
public sealed class FakeServerRestartTests
{
    /// <summary>Restarts: a fresh HttpListener on the port failed within 42 to 818 of them (5 runs of this test).</summary>
    private const int Restarts = 1_500;

    private const int Dialers = 4;

    [Test]
    public async Task Restarting_while_clients_keep_dialing_the_port_listens_again_every_time()
    {
        using var server = new FakeMlflowServer();
        var port = new Uri(server.Url).Port;
        using var stop = new CancellationTokenSource();
        var dialed = 0;
        var outages = 0;
        var dialers = Enumerable.Range(0, Dialers).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var outage = Volatile.Read(ref outages);
                bool connected;
                using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                {
                    try
                    {
                        socket.Connect(IPAddress.Loopback, port);
                        connected = true;
                    }
                    catch (SocketException)
                    {
                        connected = false; // refused while the server is down
                    }
                }

                Interlocked.Increment(ref dialed);
                if (connected)
                {
                    // Like a client that got through: it dials again once the server goes down. Dialing on while it is
                    // up opened connections faster than the server closed the dropped ones (3,771 descriptors in the
                    // test process here), until a CI machine ran out ("Too many open files in system").
                    SpinWait.SpinUntil(() => Volatile.Read(ref outages) != outage || stop.IsCancellationRequested);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        try
        {
            // A bound, not a measure: a request the server never answers fails the test instead of hanging it.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            for (var i = 1; i <= Restarts; i++)
            {
                server.StopListening();
                Interlocked.Increment(ref outages);
                if (i % 100 == 0)
                {
                    var refused = Assert.ThrowsAsync<HttpRequestException>(() => GetDefaultExperimentAsync(http, server.Url));
                    Assert.That((refused!.InnerException as SocketException)?.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused), $"restart {i}: down, the connection is refused");
                }

                // A client retries against the closed port before it opens again.
                var before = Volatile.Read(ref dialed);
                for (var yields = 0; Volatile.Read(ref dialed) == before; yields++)
                {
                    Assert.That(yields, Is.LessThan(10_000_000), "the premise: the clients keep dialing");
                    Thread.Yield();
                }

                server.StartListening();
                if (i % 100 == 0)
                {
                    using var answer = await GetDefaultExperimentAsync(http, server.Url);
                    Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"restart {i}: up again");
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(dialers);
        }

        Assert.That(Volatile.Read(ref dialed), Is.GreaterThanOrEqualTo(Restarts), "the premise: clients dialed throughout");
    }

    [Test]
    public async Task Going_down_drops_the_connections_already_open()
    {
        using var server = new FakeMlflowServer();
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
        using (var first = await http.GetAsync(server.Url + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        server.StopListening();
        // The pooled keep-alive connection was dropped: the next request does not wait on it but fails at once.
        var ex = Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(server.Url + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"));
        Assert.That(ex, Is.Not.Null);
        server.StartListening();
        using var again = await http.GetAsync(server.Url + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static Task<HttpResponseMessage> GetDefaultExperimentAsync(HttpClient http, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default");
        request.Headers.ConnectionClose = true;
        return http.SendAsync(request);
    }
}
