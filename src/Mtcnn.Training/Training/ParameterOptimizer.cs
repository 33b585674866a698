using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtcnn.Training.Training;

/// <summary>
/// Adam and SGD written out over the module's named parameters. The project keeps its own optimiser (a few lines of
/// tensor arithmetic) so that its whole state — step count and moment tensors, keyed by parameter name — can be
/// saved in the checkpoint and restored exactly, which is what makes <c>--resume</c> reproduce an uninterrupted run.
/// </summary>
public sealed class ParameterOptimizer : IDisposable
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;

    private readonly (string Name, Parameter Parameter)[] parameters;
    private readonly Dictionary<string, Tensor> first = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> second = new(StringComparer.Ordinal);

    /// <summary>Creates an optimiser over the named parameters of a module.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="kind">Adam or SGD.</param>
    /// <param name="momentum">SGD momentum.</param>
    /// <param name="weightDecay">L2 weight decay added to the gradient.</param>
    public ParameterOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, OptimizerKind kind, double momentum, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters.ToArray();
        Kind = kind;
        Momentum = momentum;
        WeightDecay = weightDecay;
        foreach (var (name, p) in this.parameters)
        {
            first[name] = torch.zeros_like(p).DetachFromDisposeScope();
            if (kind == OptimizerKind.Adam)
            {
                second[name] = torch.zeros_like(p).DetachFromDisposeScope();
            }
        }
    }

    /// <summary>The update rule.</summary>
    public OptimizerKind Kind { get; }

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; }

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Updates taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>Clears the gradients of all parameters.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in parameters)
        {
            p.grad?.zero_();
        }
    }

    /// <summary>Applies one update with the gradients now stored in the parameters.</summary>
    /// <param name="learningRate">The learning rate for this step.</param>
    public void Update(double learningRate)
    {
        Step++;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        // Every scalar is a named local held to the end of the call. A temporary Scalar converted implicitly from a double
        // is unreachable as soon as its handle is read, so the GC may finalise (free) it while libtorch still reads it;
        // a fast loop (heads on cached features) made that happen ("toFloat ... Expected false to be true").
        using var decay = WeightDecay.ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var correction2 = (1 - Math.Pow(Beta2, Step)).ToScalar();
        using var step = (-learningRate / (1 - Math.Pow(Beta1, Step))).ToScalar();
        using var momentum = Momentum.ToScalar();
        using var rate = (-learningRate).ToScalar();
        foreach (var (name, p) in parameters)
        {
            var g = p.grad;
            if (g is null)
            {
                continue;
            }

            if (WeightDecay > 0)
            {
                g = g.add(p, decay);
            }

            var m = first[name];
            if (Kind == OptimizerKind.Adam)
            {
                var v = second[name];
                m.mul_(beta1).add_(g, oneMinusBeta1);
                v.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
                var denominator = v.div(correction2).sqrt_().add_(epsilon);
                p.addcdiv_(m, denominator, step);
            }
            else
            {
                if (Momentum > 0)
                {
                    m.mul_(momentum).add_(g);
                    p.add_(m, rate);
                }
                else
                {
                    p.add_(g, rate);
                }
            }
        }

    }

    /// <summary>The state as named float arrays (moment tensors) and the step count.</summary>
    /// <returns>Named tensors to store; names are <c>optim.m.{param}</c> and <c>optim.v.{param}</c>.</returns>
    public IEnumerable<(string Name, long[] Shape, float[] Values)> ExportState()
    {
        foreach (var (name, _) in parameters)
        {
            yield return ($"optim.m.{name}", first[name].shape, first[name].data<float>().ToArray());
            if (Kind == OptimizerKind.Adam)
            {
                yield return ($"optim.v.{name}", second[name].shape, second[name].data<float>().ToArray());
            }
        }
    }

    /// <summary>Restores the state written by <see cref="ExportState"/>.</summary>
    /// <param name="step">The step count.</param>
    /// <param name="lookup">Finds a stored tensor's values by name; null when absent.</param>
    /// <exception cref="InvalidDataException">A moment tensor is missing or has the wrong size.</exception>
    public void ImportState(long step, Func<string, float[]?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        using var noGrad = torch.no_grad();
        foreach (var (name, _) in parameters)
        {
            Restore(first[name], $"optim.m.{name}");
            if (Kind == OptimizerKind.Adam)
            {
                Restore(second[name], $"optim.v.{name}");
            }
        }

        Step = step;

        void Restore(Tensor target, string key)
        {
            var values = lookup(key) ?? throw new InvalidDataException($"the checkpoint lacks the optimiser tensor '{key}'");
            if (values.Length != target.numel())
            {
                throw new InvalidDataException($"the checkpoint's '{key}' has {values.Length} values, expected {target.numel()}");
            }

            using var source = torch.tensor(values, target.shape);
            target.copy_(source);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in first.Values.Concat(second.Values))
        {
            t.Dispose();
        }

        first.Clear();
        second.Clear();
    }
}
