console.log('hydrated');
