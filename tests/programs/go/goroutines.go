package main

import (
	"fmt"
	"runtime"
	"sync"
)

// Goroutines on several threads; a busy loop without function calls forces
// the runtime to preempt with signals (SIGURG).
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i % 7
	}
	return s
}

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	results := make([]int, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			results[g] = spin(20000000 + g)
		}(g)
	}
	wg.Wait()
	m := map[string]int{}
	for i := 0; i < 100000; i++ {
		m[fmt.Sprint(i%1000)]++
	}
	fmt.Println(results, len(m))
}
