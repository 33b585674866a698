namespace Mtcnn.Evaluation.Fddb;

/// <summary>
/// Maximum-weight one-to-one assignment (Kuhn–Munkres, the O(n²m) shortest-augmenting-path form with row and column
/// potentials). FDDB uses it to pair detections with annotated faces so that the total overlap is largest.
/// </summary>
internal static class Hungarian
{
    /// <summary>Finds the assignment of rows to columns with the largest total weight.</summary>
    /// <param name="weights">Row × column weights (any finite values).</param>
    /// <returns>For each row, its column, or −1 when there are more rows than columns and the row is left out.</returns>
    public static int[] MaximumWeightAssignment(double[,] weights)
    {
        int rows = weights.GetLength(0);
        int cols = weights.GetLength(1);
        if (rows == 0 || cols == 0)
        {
            return Enumerable.Repeat(-1, rows).ToArray();
        }

        if (rows > cols)
        {
            // Solve the transposed problem (the algorithm needs rows <= columns) and invert the answer.
            var t = new double[cols, rows];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    t[c, r] = weights[r, c];
                }
            }

            int[] byColumn = MaximumWeightAssignment(t);
            var result = Enumerable.Repeat(-1, rows).ToArray();
            for (int c = 0; c < cols; c++)
            {
                result[byColumn[c]] = c;
            }

            return result;
        }

        // Minimise cost = −weight. Arrays are 1-based with index 0 as the virtual start column.
        var u = new double[rows + 1];
        var v = new double[cols + 1];
        var owner = new int[cols + 1];
        var way = new int[cols + 1];
        var minv = new double[cols + 1];
        var used = new bool[cols + 1];
        for (int i = 1; i <= rows; i++)
        {
            owner[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                int i0 = owner[j0];
                double delta = double.PositiveInfinity;
                int j1 = 0;
                for (int j = 1; j <= cols; j++)
                {
                    if (used[j])
                    {
                        continue;
                    }

                    double reduced = -weights[i0 - 1, j - 1] - u[i0] - v[j];
                    if (reduced < minv[j])
                    {
                        minv[j] = reduced;
                        way[j] = j0;
                    }

                    if (minv[j] < delta)
                    {
                        delta = minv[j];
                        j1 = j;
                    }
                }

                for (int j = 0; j <= cols; j++)
                {
                    if (used[j])
                    {
                        u[owner[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }

                j0 = j1;
            }
            while (owner[j0] != 0);

            // Flip the augmenting path.
            do
            {
                int j1 = way[j0];
                owner[j0] = owner[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        var assignment = Enumerable.Repeat(-1, rows).ToArray();
        for (int j = 1; j <= cols; j++)
        {
            if (owner[j] != 0)
            {
                assignment[owner[j] - 1] = j - 1;
            }
        }

        return assignment;
    }
}
